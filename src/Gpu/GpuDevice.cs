using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NativeIg.Gpu;

/// <summary>
/// An ILGPU accelerator chosen by name: <c>cuda</c>, <c>opencl</c>, <c>ilgpu-cpu</c> (ILGPU's
/// multi-threaded CPU accelerator, for tests and debugging) or <c>auto</c> (CUDA, then OpenCL, then
/// the CPU accelerator). Kernels compile once per device and are cached by <see cref="GpuKernels"/>.
/// </summary>
public sealed class GpuDevice : ComputeDevice
{
    private readonly Context _context;

    /// <summary>The ILGPU accelerator behind this device.</summary>
    public Accelerator Accelerator { get; }

    /// <inheritdoc />
    public override string Kind { get; }

    /// <inheritdoc />
    public override string Name => Accelerator.Name;

    private GpuDevice(Context context, Accelerator accelerator, string kind)
    {
        _context = context;
        Accelerator = accelerator;
        Kind = kind;
        Kernels = new GpuKernels(accelerator);
    }

    /// <inheritdoc />
    public override GpuKernels Kernels { get; }

    /// <summary>The device names <see cref="Open"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>Opens a device by name; asking for one that is absent lists what is present.</summary>
    public static GpuDevice Open(string name)
    {
        name = name.ToLowerInvariant();
        if (!Names.Contains(name))
            throw new ArgumentException($"Unknown device '{name}'; use one of {string.Join(", ", Names)}.");
        if (name != "ilgpu-cpu")
        {
            var context = Context.Create(builder => builder.Cuda().OpenCL().EnableAlgorithms());
            var types = name switch
            {
                "cuda" => [AcceleratorType.Cuda],
                "opencl" => [AcceleratorType.OpenCL],
                _ => new[] { AcceleratorType.Cuda, AcceleratorType.OpenCL },
            };
            foreach (var type in types)
            {
                var device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
                if (device is null) continue;
                try { return new GpuDevice(context, device.CreateAccelerator(context), type == AcceleratorType.Cuda ? "cuda" : "opencl"); }
                catch { context.Dispose(); throw; }
            }
            context.Dispose();
            if (name != "auto") throw new InvalidOperationException($"No {name} device is present. Present: {Present()}.");
        }
        // ILGPU's CPU accelerator with its NVIDIA-shaped preset (warps of 32, groups up to 1024 threads),
        // so kernels run with the group sizes they would get on a GPU.
        var cpuContext = Context.Create(builder => builder.CPU(CPUDevice.Nvidia).EnableAlgorithms());
        try { return new GpuDevice(cpuContext, cpuContext.GetCPUDevice(0).CreateCPUAccelerator(cpuContext), "ilgpu-cpu"); }
        catch { cpuContext.Dispose(); throw; }
    }

    /// <summary>The devices ILGPU can see on this machine, for messages and --help.</summary>
    public static string Present()
    {
        using var context = Context.Create(builder => builder.Cuda().OpenCL());
        var gpus = Describe(context);
        return gpus.Length == 0 ? "ilgpu-cpu (ILGPU CPU accelerator)" : gpus + ", ilgpu-cpu (ILGPU CPU accelerator)";
    }

    /// <summary>Whether a CUDA device is present (tests that need real CUDA skip otherwise).</summary>
    public static bool HasCuda()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.Devices.Any(d => d.AcceleratorType == AcceleratorType.Cuda);
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static string Describe(Context context) =>
        string.Join(", ", context.Devices.Select(d => $"{d.AcceleratorType switch { AcceleratorType.Cuda => "cuda", AcceleratorType.OpenCL => "opencl", _ => "ilgpu-cpu" }} ({d.Name})"));

    private readonly Dictionary<int, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = new();

    /// <summary>
    /// A device buffer of at least <paramref name="length"/> floats, reused by size class. A buffer can
    /// be returned while kernels that read it are still queued: every kernel and copy goes on the
    /// accelerator's one default stream, so its next user runs after them. When the device (or
    /// <see cref="MemoryLimitBytes"/>) cannot fit a new buffer, the idle buffers of other size classes
    /// are freed and the allocation tried once more; then it fails with <see cref="DeviceMemoryException"/>.
    /// </summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Rent(int length)
    {
        int capacity = BufferPool.SizeClass(Math.Max(1, length));
        lock (_free)
            if (_free.TryGetValue(capacity, out var stack) && stack.Count > 0) return stack.Pop();
        long bytes = capacity * (long)sizeof(float);
        for (int attempt = 0; ; attempt++)
        {
            Exception? failure = null;
            if (MemoryLimitBytes is { } limit && Interlocked.Read(ref _bytesAllocated) + bytes > limit)
                failure = new OutOfMemoryException($"the memory limit of {limit / 1048576.0:F0} MiB set on this device");
            else
            {
                try
                {
                    var buffer = Accelerator.Allocate1D<float>(capacity);
                    Interlocked.Increment(ref _buffersCreated);
                    Interlocked.Add(ref _bytesAllocated, bytes);
                    return buffer;
                }
                catch (Exception e) when (e is not ArgumentException) { failure = e; }
            }
            if (attempt == 0 && TrimIdleBuffers() > 0) continue;
            throw new DeviceMemoryException(
                $"The {Kind} device '{Name}' could not allocate {bytes / 1048576.0:F1} MiB: {failure.Message}. " +
                $"{Interlocked.Read(ref _bytesAllocated) / 1048576.0:F0} MiB are allocated by this process's tensors " +
                $"(device memory {Accelerator.MemorySize / 1073741824.0:F1} GiB). Use a smaller batch (IG's path images " +
                "per forward/backward), or the CPU.", failure);
        }
    }

    /// <summary>Frees the pool's idle buffers; returns the bytes given back to the device.</summary>
    public long TrimIdleBuffers()
    {
        long freed = 0;
        lock (_free)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0)
                {
                    var buffer = stack.Pop();
                    freed += buffer.LengthInBytes;
                    buffer.Dispose();
                }
        }
        Interlocked.Add(ref _bytesAllocated, -freed);
        return freed;
    }

    private long _buffersCreated, _bytesAllocated;

    /// <summary>Device allocations so far; a repeated workload (the next IG chunk or call) should add none.</summary>
    public long BuffersCreated => Interlocked.Read(ref _buffersCreated);

    /// <summary>Bytes of device memory held by this device's tensors and its pool.</summary>
    public long BytesAllocated => Interlocked.Read(ref _bytesAllocated);

    /// <summary>A cap on <see cref="BytesAllocated"/> below the device's own memory (null: none), for sharing a GPU.</summary>
    public long? MemoryLimitBytes { get; set; }

    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        lock (_free)
        {
            if (!_free.TryGetValue((int)buffer.Length, out var stack)) _free[(int)buffer.Length] = stack = new();
            stack.Push(buffer);
        }
    }

    /// <inheritdoc />
    public override GpuTensor Allocate(params int[] shape) => new(this, shape);

    /// <inheritdoc />
    public override void Synchronize() => Accelerator.Synchronize();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_free)
        {
            foreach (var stack in _free.Values)
                foreach (var buffer in stack) buffer.Dispose();
            _free.Clear();
        }
        Accelerator.Dispose();
        _context.Dispose();
    }
}

/// <summary>A device allocation failed even after the pool's idle buffers were freed; the message says how much and what to do.</summary>
public sealed class DeviceMemoryException : InvalidOperationException
{
    /// <summary>With a default message.</summary>
    public DeviceMemoryException() { }

    /// <summary>With <paramref name="message"/>.</summary>
    public DeviceMemoryException(string message) : base(message) { }

    /// <summary>With <paramref name="message"/> and the exception that caused it.</summary>
    public DeviceMemoryException(string message, Exception? innerException) : base(message, innerException) { }
}
