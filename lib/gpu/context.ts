/**
 * The one object that owns a WebGPU device for somscope: adapter and device acquisition, adapter
 * facts for the run manifest, the GPU policy, a pipeline cache keyed by kernel name and
 * `override` constants, a buffer pool with owned leases, batched readbacks, validation errors
 * surfaced as exceptions, and `dispose()`.
 *
 * **GPU policy.** Every kernel that has both a WGSL and a CPU path asks {@linkcode gpuPolicy}
 * where to run: WGSL on a hardware adapter; the CPU path on a software adapter (Mesa's llvmpipe
 * runs WGSL at a few GFLOP/s and onnxruntime-web's WebGPU EP at ~1 image/s, against ~58 for
 * onnxruntime-node) or without a context. {@linkcode GpuContext.auto} makes the one context a
 * program needs (or none) and says why; the context is then passed in everywhere. No module
 * creates a context of its own.
 *
 * Nothing is global: kernels take a {@linkcode GpuContext} argument. The context can wrap a
 * `GPUDevice` made elsewhere (e.g. the one onnxruntime-web's WebGPU EP uses, via
 * `ort.env.webgpu.device`), so that model outputs kept on the GPU feed our kernels without a
 * round trip.
 *
 * @module
 */

import { GpuUnavailableError, GpuValidationError } from "../errors.ts";

/** Adapter facts recorded in every manifest. */
export interface AdapterFacts {
  /** `adapter.info.vendor` (may be empty). */
  vendor: string;
  /** `adapter.info.architecture` (may be empty). */
  architecture: string;
  /** `adapter.info.device` (may be empty). */
  device: string;
  /** `adapter.info.description`, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  description: string;
  /** True for a software adapter such as Mesa's llvmpipe. */
  isFallbackAdapter: boolean;
  /** The device's `maxStorageBufferBindingSize`, in bytes. */
  maxStorageBufferBindingSize: number;
  /** The device's `maxComputeWorkgroupsPerDimension`. */
  maxComputeWorkgroupsPerDimension: number;
}

/** Options for {@linkcode GpuContext.create}. */
export interface GpuContextOptions {
  /** Use this device instead of requesting one (it is not destroyed by `dispose()`). */
  device?: GPUDevice;
  /** Adapter used to create `device`, for its facts. */
  adapter?: GPUAdapter;
  /** Passed to `requestAdapter`. Default `"high-performance"`. */
  powerPreference?: GPUPowerPreference;
  /** Refuse a software (fallback) adapter. Default false. */
  requireHardware?: boolean;
}

/** Where kernels with a WGSL and a CPU path run, and why (see {@linkcode gpuPolicy}). */
export interface GpuPolicy {
  /** True: run the WGSL kernels (hardware adapter). False: run the CPU paths. */
  readonly wgsl: boolean;
  /**
   * Why, for manifests and messages: `"hardware adapter (…)"`, `"software adapter (…)"`,
   * `"no WebGPU adapter (…)"` or `"no GPU context"`.
   */
  readonly reason: string;
}

/** What {@linkcode GpuContext.auto} returns. */
export interface GpuAuto {
  /** The context, when an adapter exists (software adapters included: their facts go into manifests). */
  readonly ctx: GpuContext | undefined;
  /** The policy for `ctx` (the reason names a missing adapter). */
  readonly policy: GpuPolicy;
}

/**
 * The GPU policy of a context: WGSL on a hardware adapter, CPU paths on a software adapter or
 * without a context. This is the only place somscope makes that choice.
 *
 * @param ctx The context, or undefined.
 * @returns The decision and its reason.
 *
 * @example
 * ```ts
 * import { gpuPolicy } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(gpuPolicy(undefined), { wgsl: false, reason: "no GPU context" });
 * ```
 */
export function gpuPolicy(ctx: GpuContext | undefined): GpuPolicy {
  if (!ctx) return { wgsl: false, reason: "no GPU context" };
  const name = ctx.adapter.description || ctx.adapter.vendor || "unnamed";
  return ctx.adapter.isFallbackAdapter
    ? { wgsl: false, reason: `software adapter (${name})` }
    : { wgsl: true, reason: `hardware adapter (${name})` };
}

/**
 * The usage flags of every pooled storage buffer: STORAGE | COPY_DST | COPY_SRC.
 *
 * @example
 * ```ts
 * import { STORAGE_USAGE } from "../../mod.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(STORAGE_USAGE, 0x80 | 0x08 | 0x04);
 * ```
 */
export const STORAGE_USAGE: number = 0x80 | 0x08 | 0x04; // STORAGE | COPY_DST | COPY_SRC

/**
 * Owns a WebGPU device and the objects made on it.
 *
 * @example Acquire a device (GPU-only)
 * ```ts ignore
 * import { GpuContext } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const ctx = await GpuContext.create();
 * ok(typeof ctx.adapter.isFallbackAdapter === "boolean");
 * ctx.dispose();
 * ```
 */
export class GpuContext {
  /** The device all kernels of this context run on. */
  readonly device: GPUDevice;
  /** Facts about the adapter, for manifests. */
  readonly adapter: AdapterFacts;
  #ownsDevice: boolean;
  #modules = new Map<string, GPUShaderModule>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #pool = new Map<string, GPUBuffer[]>();
  #live = new Set<GPUBuffer>();
  #lost = false;
  #disposed = false;

  private constructor(device: GPUDevice, facts: AdapterFacts, owns: boolean) {
    this.device = device;
    this.adapter = facts;
    this.#ownsDevice = owns;
    device.lost.then(() => {
      this.#lost = true;
    });
  }

  /**
   * Requests an adapter and a device (or wraps a given device).
   *
   * @param options Where the device comes from.
   * @returns A new context.
   * @throws {GpuUnavailableError} If WebGPU is missing, no adapter is found, or only a fallback
   * adapter is found while `requireHardware` is set.
   */
  static async create(options: GpuContextOptions = {}): Promise<GpuContext> {
    if (options.device) {
      return new GpuContext(
        options.device,
        _facts(options.adapter, options.device),
        false,
      );
    }
    _privateRuntimeDir();
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) {
      throw new GpuUnavailableError(
        "Cannot create a GPU context: navigator.gpu is undefined (this runtime has no WebGPU)",
      );
    }
    const adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference ?? "high-performance",
    });
    if (!adapter) {
      throw new GpuUnavailableError(
        "Cannot create a GPU context: no WebGPU adapter found (on Linux without a GPU, install " +
          "Mesa's software rasteriser: apt-get install libgl1-mesa-dri libegl-mesa0)",
      );
    }
    if (options.requireHardware && adapter.info.isFallbackAdapter) {
      throw new GpuUnavailableError(
        `Cannot create a GPU context: only a fallback adapter (${adapter.info.description}) ` +
          "was found but requireHardware is set",
      );
    }
    const lim = adapter.limits;
    const device = await adapter.requestDevice({
      label: "somscope",
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
        maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
        maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
      },
    });
    return new GpuContext(device, _facts(adapter, device), true);
  }

  /**
   * The one `auto` decision of a program: a context on the best adapter (hardware or software),
   * or none, with the policy that follows ({@linkcode gpuPolicy}). Never throws for a missing
   * adapter; the policy's reason then names what was missing.
   *
   * @param options As {@linkcode GpuContext.create} (`device` wraps an existing one).
   * @returns The context (or undefined) and its policy.
   *
   * @example
   * ```ts
   * import { GpuContext } from "../../mod.ts";
   * import { ok } from "node:assert";
   * const { ctx, policy } = await GpuContext.auto();
   * ok(policy.wgsl === (ctx !== undefined && !ctx.adapter.isFallbackAdapter), policy.reason);
   * ctx?.dispose();
   * ```
   */
  static async auto(options: GpuContextOptions = {}): Promise<GpuAuto> {
    try {
      const ctx = await GpuContext.create(options);
      return { ctx, policy: gpuPolicy(ctx) };
    } catch (e) {
      // requestDevice can fail too (e.g. a driver without the limits asked for): no GPU either.
      const reason = `no WebGPU adapter (${(e as Error).message})`;
      return { ctx: undefined, policy: { wgsl: false, reason } };
    }
  }

  /** Device limits (shortcut for `device.limits`). */
  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** True once the device was lost or the context disposed. */
  get lost(): boolean {
    return this.#lost || this.#disposed;
  }

  #check(): void {
    if (this.#disposed) throw new GpuUnavailableError("Cannot use GPU context: it was disposed");
    if (this.#lost) throw new GpuUnavailableError("Cannot use GPU context: the device was lost");
  }

  /**
   * A compute pipeline for a kernel, compiled once per (name, constants) pair.
   *
   * Sizes go in uniforms or `override` constants, never into the shader text, so the cache key
   * is the kernel name plus the constants.
   *
   * @param name Kernel name (e.g. the WGSL file's base name).
   * @param code WGSL source.
   * @param constants `override` constants.
   * @param entryPoint Entry point. Default `"main"`.
   * @returns The cached or new pipeline.
   * @throws {GpuValidationError} If the shader or pipeline does not compile.
   */
  async pipeline(
    name: string,
    code: string,
    constants: Record<string, number> = {},
    entryPoint = "main",
  ): Promise<GPUComputePipeline> {
    this.#check();
    const keys = Object.keys(constants).sort();
    const key = `${name}:${entryPoint}:${keys.map((k) => `${k}=${constants[k]}`).join(",")}`;
    const hit = this.#pipelines.get(key);
    if (hit) return hit;
    let mod = this.#modules.get(name);
    if (!mod) {
      mod = this.device.createShaderModule({ label: name, code });
      this.#modules.set(name, mod);
    }
    let pipe: GPUComputePipeline;
    try {
      pipe = await this.scoped(`compile ${name}`, () =>
        this.device.createComputePipelineAsync({
          label: key,
          layout: "auto",
          compute: { module: mod, entryPoint, constants },
        }));
    } catch (e) {
      if (e instanceof GpuValidationError) throw e;
      const info = await mod.getCompilationInfo().catch(() => undefined);
      const msgs = info?.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ");
      this.#modules.delete(name);
      throw new GpuValidationError(
        `Cannot compile kernel "${name}": ${(e as Error).message}${msgs ? ` (${msgs})` : ""}`,
        { cause: e },
      );
    }
    this.#pipelines.set(key, pipe);
    return pipe;
  }

  /**
   * Runs `fn` inside validation and out-of-memory error scopes and throws if either caught
   * an error, so GPU mistakes surface as exceptions instead of console warnings.
   *
   * @param what What is being done, for the message.
   * @param fn The GPU work to record/submit.
   * @returns What `fn` returned.
   * @throws {GpuValidationError} If WebGPU reported an error.
   */
  async scoped<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.#check();
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    let result: T;
    let thrown: unknown;
    try {
      result = await fn();
    } catch (e) {
      thrown = e;
    }
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (thrown !== undefined) throw thrown;
    const err = validation ?? oom;
    if (err) {
      throw new GpuValidationError(`Cannot ${what}: WebGPU reported "${err.message}"`);
    }
    return result!;
  }

  /**
   * A storage buffer of at least `size` bytes from the pool (or new). Give it back with
   * {@linkcode GpuContext.release}.
   *
   * @param size Bytes needed (rounded up to a multiple of 16 for the pool).
   * @param label Debug label.
   * @param usage Usage flags. Default storage + copy src/dst.
   * @returns A buffer.
   * @throws {RangeError} If `size` exceeds the device's `maxBufferSize`.
   */
  acquire(size: number, label: string, usage: number = STORAGE_USAGE): GPUBuffer {
    this.#check();
    const bytes = Math.max(16, Math.ceil(size / 16) * 16);
    if (bytes > this.device.limits.maxBufferSize) {
      throw new RangeError(
        `Cannot allocate GPU buffer "${label}": ${bytes} bytes but the device allows at most ` +
          `${this.device.limits.maxBufferSize}`,
      );
    }
    const key = `${bytes}:${usage}`;
    const free = this.#pool.get(key);
    const buf = free?.pop() ?? this.device.createBuffer({ label, size: bytes, usage });
    buf.label = label;
    this.#live.add(buf);
    return buf;
  }

  /**
   * Returns a buffer from {@linkcode GpuContext.acquire} to the pool.
   *
   * @param buffers The buffers to give back.
   */
  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) {
      if (!this.#live.delete(b)) continue;
      const key = `${b.size}:${b.usage}`;
      const list = this.#pool.get(key) ?? [];
      if (list.length < 8) {
        list.push(b);
        this.#pool.set(key, list);
      } else b.destroy();
    }
  }

  /**
   * Uploads a typed array into a pooled storage buffer.
   *
   * @param data The data.
   * @param label Debug label.
   * @returns A buffer holding a copy of `data` (release it when done).
   */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    const buf = this.acquire(data.byteLength, label);
    this.write(buf, data);
    return buf;
  }

  /**
   * Writes a typed array at the start (or `offset`) of a buffer, padding to 4 bytes.
   *
   * @param buffer Destination.
   * @param data Source.
   * @param offset Byte offset in the destination.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    const n = data.byteLength;
    if (n === 0) return;
    if (n % 4 === 0) {
      this.device.queue.writeBuffer(buffer, offset, data.buffer as ArrayBuffer, data.byteOffset, n);
    } else {
      const padded = new Uint8Array(Math.ceil(n / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, n));
      this.device.queue.writeBuffer(buffer, offset, padded);
    }
  }

  /**
   * A uniform buffer holding `data` (not pooled; destroy it after the dispatch completes).
   *
   * @param data Uniform contents (padded to 16 bytes).
   * @param label Debug label.
   * @returns The buffer.
   */
  uniform(data: ArrayBufferView, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buf = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.write(buf, data);
    return buf;
  }

  /**
   * Copies `byteLength` bytes of a buffer back to the CPU.
   *
   * @param buffer Source (must have COPY_SRC usage).
   * @param byteLength Bytes to read (multiple of 4).
   * @param byteOffset Source offset.
   * @returns A fresh ArrayBuffer.
   * @throws {GpuValidationError} If the copy fails.
   */
  async read(buffer: GPUBuffer, byteLength: number, byteOffset = 0): Promise<ArrayBuffer> {
    return (await this.readMany([{ buffer, byteLength, byteOffset }]))[0];
  }

  /**
   * Copies several buffer ranges back to the CPU with one staging buffer, one submit and one
   * map (a readback waits for the queue, so batching them saves a round trip per range).
   *
   * @param ranges Each range: source buffer (COPY_SRC usage), bytes (multiple of 4), offset.
   * @returns One fresh ArrayBuffer per range, in order.
   * @throws {GpuValidationError} If a copy fails.
   */
  async readMany(
    ranges: readonly { buffer: GPUBuffer; byteLength: number; byteOffset?: number }[],
  ): Promise<ArrayBuffer[]> {
    this.#check();
    const sizes = ranges.map((r) => Math.ceil(r.byteLength / 4) * 4);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total === 0) return ranges.map(() => new ArrayBuffer(0));
    const label = `read ${ranges.map((r) => r.buffer.label).join(", ")}`;
    const staging = this.device.createBuffer({
      label,
      size: total,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      await this.scoped(`read back ${label.slice(5)}`, () => {
        const enc = this.device.createCommandEncoder({ label });
        let at = 0;
        ranges.forEach((r, i) => {
          if (sizes[i]) enc.copyBufferToBuffer(r.buffer, r.byteOffset ?? 0, staging, at, sizes[i]);
          at += sizes[i];
        });
        this.device.queue.submit([enc.finish()]);
      });
      await staging.mapAsync(GPUMapMode.READ);
      const mapped = staging.getMappedRange();
      let at = 0;
      return ranges.map((r, i) => {
        const out = mapped.slice(at, at + r.byteLength);
        at += sizes[i];
        return out;
      });
    } finally {
      staging.destroy();
    }
  }

  /**
   * A lease: buffers acquired, uploaded or made as uniforms through it are owned together and
   * freed together by {@linkcode GpuLease.release} (or at the end of a `using` block), so a
   * kernel's temporaries cannot leak on an error path.
   *
   * @returns A new, empty lease on this context.
   *
   * @example (GPU-only)
   * ```ts ignore
   * import { GpuContext } from "../../mod.ts";
   * import { deepStrictEqual as assertEquals } from "node:assert";
   * const ctx = await GpuContext.create();
   * {
   *   using own = ctx.lease();
   *   const b = own.upload(new Float32Array([1, 2]), "x");
   *   assertEquals(Array.from(new Float32Array(await ctx.read(b, 8))), [1, 2]);
   * } // b is back in the pool here
   * ctx.dispose();
   * ```
   */
  lease(): GpuLease {
    return new GpuLease(this);
  }

  /**
   * Records one compute dispatch (or several, in order) and submits them, inside an error scope.
   *
   * @param label What is dispatched.
   * @param passes Each pass: pipeline, bind-group entries for group 0, workgroup counts.
   * @throws {GpuValidationError} If WebGPU reports an error.
   */
  async dispatch(
    label: string,
    passes: {
      pipeline: GPUComputePipeline;
      entries: GPUBindGroupEntry[];
      workgroups: [number, number?, number?];
    }[],
  ): Promise<void> {
    await this.scoped(`dispatch ${label}`, () => {
      const enc = this.device.createCommandEncoder({ label });
      const pass = enc.beginComputePass({ label });
      for (const p of passes) {
        const bg = this.device.createBindGroup({
          label,
          layout: p.pipeline.getBindGroupLayout(0),
          entries: p.entries,
        });
        pass.setPipeline(p.pipeline);
        pass.setBindGroup(0, bg);
        const [x, y = 1, z = 1] = p.workgroups;
        pass.dispatchWorkgroups(x, y, z);
      }
      pass.end();
      this.device.queue.submit([enc.finish()]);
    });
  }

  /** Waits until all submitted work has finished. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Destroys pooled buffers and, if this context created it, the device. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const list of this.#pool.values()) for (const b of list) b.destroy();
    for (const b of this.#live) b.destroy();
    this.#pool.clear();
    this.#live.clear();
    this.#pipelines.clear();
    this.#modules.clear();
    if (this.#ownsDevice) this.device.destroy();
  }
}

/**
 * Buffers owned together (see {@linkcode GpuContext.lease}): pooled storage buffers go back to
 * the context's pool, uniforms are destroyed. Releasing twice is harmless.
 */
export class GpuLease {
  #ctx: GpuContext;
  #pooled: GPUBuffer[] = [];
  #uniforms: GPUBuffer[] = [];

  /**
   * A lease on a context (use {@linkcode GpuContext.lease}).
   *
   * @param ctx The context the buffers come from.
   */
  constructor(ctx: GpuContext) {
    this.#ctx = ctx;
  }

  /**
   * A pooled storage buffer owned by this lease (see {@linkcode GpuContext.acquire}).
   *
   * @param size Bytes needed.
   * @param label Debug label.
   * @returns The buffer.
   * @throws {RangeError} If `size` exceeds the device's `maxBufferSize`.
   */
  acquire(size: number, label: string): GPUBuffer {
    const b = this.#ctx.acquire(size, label);
    this.#pooled.push(b);
    return b;
  }

  /**
   * A pooled storage buffer holding a copy of `data`, owned by this lease.
   *
   * @param data The data.
   * @param label Debug label.
   * @returns The buffer.
   */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    const b = this.acquire(data.byteLength, label);
    this.#ctx.write(b, data);
    return b;
  }

  /**
   * A uniform buffer holding `data`, owned by this lease.
   *
   * @param data Uniform contents.
   * @param label Debug label.
   * @returns The buffer.
   */
  uniform(data: ArrayBufferView, label: string): GPUBuffer {
    const b = this.#ctx.uniform(data, label);
    this.#uniforms.push(b);
    return b;
  }

  /**
   * Stops owning a buffer (e.g. a result handed to the caller), so `release()` leaves it alone.
   *
   * @param buffer A buffer from this lease.
   * @returns The same buffer.
   */
  keep(buffer: GPUBuffer): GPUBuffer {
    this.#pooled = this.#pooled.filter((b) => b !== buffer);
    return buffer;
  }

  /** Gives pooled buffers back to the context and destroys uniforms. */
  release(): void {
    this.#ctx.release(...this.#pooled);
    for (const u of this.#uniforms) u.destroy();
    this.#pooled = [];
    this.#uniforms = [];
  }

  /** Same as {@linkcode GpuLease.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

let _runtimeDirChecked = false;

/**
 * Gives Mesa a private runtime directory before the first WebGPU probe when `XDG_RUNTIME_DIR` is
 * unset, relative or not a directory: Mesa's Vulkan drivers (llvmpipe/lavapipe included) open a
 * Wayland connection while enumerating adapters, and libwayland then prints `error:
 * XDG_RUNTIME_DIR is invalid or not set in the environment.` on stderr. The directory is made
 * under the OS temp dir with mode 0700 (what the XDG spec asks of a runtime dir), set for this
 * process only, and removed when the process exits. A valid `XDG_RUNTIME_DIR` is left alone;
 * without env or write permission nothing happens.
 */
function _privateRuntimeDir(): void {
  if (_runtimeDirChecked) return;
  _runtimeDirChecked = true;
  try {
    const cur = Deno.env.get("XDG_RUNTIME_DIR");
    if (cur?.startsWith("/") && Deno.statSync(cur).isDirectory) return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return; // no env/read permission: leave it
  }
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ prefix: "somscope-runtime-" });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    return;
  }
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
}

function _facts(adapter: GPUAdapter | undefined, device: GPUDevice): AdapterFacts {
  const info = adapter?.info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
    isFallbackAdapter: Boolean(
      (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter,
    ),
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
  };
}
