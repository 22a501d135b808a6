using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Tensors.Gpu;

/// <summary>
/// A float32 tensor in device memory, with its shape (layouts as on the CPU: NHWC, HWIO). Storage is
/// rented from the device's pool by size class and goes back on Dispose, so the chunks of an IG path
/// reuse device memory instead of allocating per op. Views (reshape, batch slices) share storage.
/// </summary>
public sealed class GpuTensor : IDisposable
{
    private readonly int[] _shape;
    private readonly long _offset;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;
    private readonly bool _owns;

    public GpuDevice Device { get; }
    public ReadOnlySpan<int> Shape => _shape;
    public int Length { get; }

    internal GpuTensor(GpuDevice device, int[] shape)
    {
        Device = device;
        _shape = (int[])shape.Clone();
        Length = Tensor.ElementCount(shape);
        _buffer = device.Rent(Length);
        _owns = true;
    }

    private GpuTensor(GpuTensor source, int[] shape, long offset)
    {
        Device = source.Device;
        _shape = shape;
        Length = Tensor.ElementCount(shape);
        _buffer = source.Storage;
        _offset = source._offset + offset;
        _owns = false;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Storage => _buffer ?? throw new ObjectDisposedException(nameof(GpuTensor));

    public ArrayView<float> View => Storage.View.SubView(_offset, Length);

    public int Dim(int axis) => _shape[axis];

    public string ShapeString => Tensor.Describe(_shape);

    public GpuTensor Reshape(int[] shape) => new(this, (int[])shape.Clone(), 0);

    public GpuTensor Slice(int[] shape, long offset) => new(this, (int[])shape.Clone(), offset);

    public static GpuTensor FromHost(GpuDevice device, Tensor host)
    {
        var t = new GpuTensor(device, host.Shape.ToArray());
        t.View.CopyFromCPU(host.ToArray());
        return t;
    }

    /// <summary>Copies to a new host tensor (waits for the device).</summary>
    public Tensor ToHost()
    {
        Device.Synchronize();
        var data = new float[Length];
        View.CopyToCPU(data);
        return Tensor.FromSpan(data, _shape);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null && _owns) Device.Return(buffer);
    }
}
