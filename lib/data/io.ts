/**
 * Reading what the loaders read: paths to URLs, bytes over `fetch()`, gunzip, class-name files,
 * and locations shown in messages.
 *
 * Internal to `lib/data`; nothing here is re-exported from `mod.ts`.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";

/**
 * A file URL for a path, or the URL itself.
 *
 * @param location A filesystem path or a URL.
 * @returns The URL.
 */
export function toUrl(location: string | URL): URL {
  if (location instanceof URL) return location;
  if (/^(file|https?):\/\//.test(location)) return new URL(location);
  // Like node:url's pathToFileURL: the pathname setter percent-encodes `#`, `?` and spaces.
  const abs = location.startsWith("/") ? location : `${Deno.cwd()}/${location}`;
  const url = new URL("file://");
  url.pathname = abs;
  return url;
}

/**
 * Reads all bytes at a URL with `fetch()` (works for `file:` and `http(s):`, so the built-in
 * data also loads when `mod.ts` is imported over HTTP).
 *
 * @param url Where to read.
 * @returns The bytes.
 * @throws {DataFormatError} If the resource cannot be read.
 */
export async function readBytes(url: URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DataFormatError(`Cannot read ${showUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DataFormatError(
      `Cannot read ${showUrl(url)}: HTTP status ${response.status} but expected 200`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Gunzips bytes that start with the gzip magic `1f 8b`; returns other bytes unchanged.
 *
 * @param bytes File contents.
 * @param name File name for error messages.
 * @returns The decompressed bytes.
 * @throws {DataFormatError} If the gzip stream is corrupt or truncated.
 */
export async function gunzipIfNeeded(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataFormatError(`Cannot gunzip ${name}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Describes a location for error messages (a path for `file:` URLs).
 *
 * @param url The location.
 * @returns Printable text.
 */
export function showUrl(url: URL): string {
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

/**
 * The last path segment of a URL, decoded (a file's name without its folder).
 *
 * @param url The location.
 * @returns The file name.
 */
export function baseName(url: URL): string {
  return decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf("/") + 1));
}

/**
 * Reads a class-name mapping file: one class per line, either `NAME` (label order) or
 * `KEY NAME…` (a folder name, whitespace, then the display name — ImageNet's
 * `LOC_synset_mapping.txt` form). Blank lines and lines starting with `#` are skipped.
 *
 * @param location Path or URL of the file.
 * @returns The lines split into keys and names.
 * @throws {DataFormatError} If the file is unreadable or empty.
 */
export async function readClassNames(
  location: string | URL,
): Promise<{ keys: string[]; names: string[]; raw: string[] }> {
  const url = toUrl(location);
  const text = new TextDecoder().decode(await readBytes(url));
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (lines.length === 0) {
    throw new DataFormatError(`Cannot read class names from ${showUrl(url)}: no lines`);
  }
  const keys: string[] = [], names: string[] = [];
  for (const l of lines) {
    const m = /^(\S+)\s+(.+)$/.exec(l);
    keys.push(m ? m[1] : l);
    names.push(m ? m[2] : l);
  }
  return { keys, names, raw: lines };
}
