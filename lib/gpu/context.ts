/**
 * The one object that owns a WebGPU device for somscope: adapter and device acquisition, adapter
 * facts for the run manifest, a pipeline cache keyed by kernel name and `override` constants, a
 * buffer pool, validation errors surfaced as exceptions, and `dispose()`.
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
    this.#check();
    const size = Math.ceil(byteLength / 4) * 4;
    if (size === 0) return new ArrayBuffer(0);
    const staging = this.device.createBuffer({
      label: `read ${buffer.label}`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      await this.scoped(`read back ${buffer.label}`, () => {
        const enc = this.device.createCommandEncoder({ label: `read ${buffer.label}` });
        enc.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
        this.device.queue.submit([enc.finish()]);
      });
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, byteLength);
    } finally {
      staging.destroy();
    }
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

/**
 * Whether GPU tests may be skipped: only when `SOMSCOPE_ALLOW_NO_GPU=1` and not on CI
 * (`CI` unset). On CI a missing adapter must fail loudly.
 *
 * @returns True if skipping GPU work for lack of an adapter is allowed.
 * @example
 * ```ts
 * import { gpuSkipAllowed } from "../../mod.ts";
 * import { strictEqual } from "node:assert";
 * if (Deno.env.get("CI")) strictEqual(gpuSkipAllowed(), false);
 * ```
 */
export function gpuSkipAllowed(): boolean {
  let ci: string | undefined, allow: string | undefined;
  try {
    ci = Deno.env.get("CI");
    allow = Deno.env.get("SOMSCOPE_ALLOW_NO_GPU");
  } catch {
    return false;
  }
  return allow === "1" && !ci;
}
