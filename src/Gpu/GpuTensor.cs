using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>
/// A float32 tensor in device memory, with its shape (layouts as on the CPU: NHWC, HWIO). Storage is
/// rented from the device's pool by size class and goes back on Dispose, so the chunks of an IG path
/// reuse device memory instead of allocating per op. Views (reshape, batch slices) share storage.
/// </summary>
public sealed class GpuTensor : DeviceTensor
{
    private readonly long _offset;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;
    private readonly bool _owns;

    /// <summary>The ILGPU device whose memory holds this tensor.</summary>
    public override GpuDevice Device { get; }

    internal GpuTensor(GpuDevice device, int[] shape) : base(shape)
    {
        Device = device;
        _buffer = device.Rent(Length);
        _owns = true;
    }

    private GpuTensor(GpuTensor source, int[] shape, long offset) : base(shape)
    {
        Device = source.Device;
        if (offset < 0 || offset + Length > source.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"A view of {Length} elements at {offset} does not fit in {source.ShapeString}.");
        _buffer = source.Storage;
        _offset = source._offset + offset;
        _owns = false;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Storage => _buffer ?? throw new ObjectDisposedException(nameof(GpuTensor));

    /// <summary>The ILGPU view of this tensor's elements, for kernels.</summary>
    public ArrayView<float> View => Storage.View.SubView(_offset, Length);

    /// <inheritdoc />
    public override GpuTensor Reshape(int[] shape)
    {
        if (Tensor.ElementCount(shape) != Length)
            throw new ArgumentException($"Cannot view {ShapeString} as {Tensor.Describe(shape)}: the element counts differ.");
        return new(this, (int[])shape.Clone(), 0);
    }

    /// <inheritdoc />
    public override GpuTensor Slice(int[] shape, long offset) => new(this, (int[])shape.Clone(), offset);

    /// <summary>A copy of a host tensor on <paramref name="device"/>.</summary>
    public static GpuTensor FromHost(GpuDevice device, Tensor host) => (GpuTensor)device.Upload(host);

    /// <inheritdoc />
    public override void CopyFromHost(ReadOnlySpan<float> source)
    {
        if (source.Length != Length) throw new ArgumentException($"{source.Length} values do not fill {ShapeString}.");
        View.CopyFromCPU(source);
    }

    /// <inheritdoc />
    public override void CopyToHost(Span<float> destination)
    {
        if (destination.Length != Length) throw new ArgumentException($"{ShapeString} does not fill {destination.Length} values.");
        Device.Synchronize();
        View.CopyToCPU(destination);
    }

    /// <inheritdoc />
    public override void CopyTo(DeviceTensor destination)
    {
        var target = Of(destination, Device);
        if (target.Length != Length) throw new ArgumentException($"Cannot copy {ShapeString} into {target.ShapeString}.");
        View.CopyTo(target.View);
    }

    /// <summary>The ILGPU tensor behind <paramref name="tensor"/>, which must live on <paramref name="device"/> (or any ILGPU device when null).</summary>
    public static GpuTensor Of(DeviceTensor tensor, GpuDevice? device = null)
    {
        if (tensor is GpuTensor gpu && (device is null || ReferenceEquals(gpu.Device, device))) return gpu;
        throw new ArgumentException($"Tensor{tensor.ShapeString} lives on {tensor.Device}, not on {(device is null ? "an ILGPU device" : device.ToString())}.");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null && _owns) Device.Return(buffer);
    }
}
