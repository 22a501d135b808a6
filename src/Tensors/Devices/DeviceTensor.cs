namespace NativeIg.Tensors;

/// <summary>
/// A float32 tensor in a <see cref="ComputeDevice"/>'s memory, in the host layouts (NHWC activations,
/// HWIO filters). Views (<see cref="Reshape"/>, <see cref="Slice"/>) share storage and free nothing;
/// the owner gives its storage back to the device on <see cref="Dispose()"/>.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    private readonly int[] _shape;

    /// <summary>Records the shape; the storage is the implementation's.</summary>
    protected DeviceTensor(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = (int[])shape.Clone();
        Length = Tensor.ElementCount(_shape);
    }

    /// <summary>The device whose memory holds this tensor.</summary>
    public abstract ComputeDevice Device { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>One dimension.</summary>
    public int Dim(int axis) => _shape[axis];

    /// <summary>The shape as <c>[a, b, c]</c>, for messages.</summary>
    public string ShapeString => Tensor.Describe(_shape);

    /// <summary>The same storage seen with another shape of the same length.</summary>
    public abstract DeviceTensor Reshape(int[] shape);

    /// <summary>A view of <paramref name="shape"/>'s element count starting <paramref name="offset"/> elements in.</summary>
    public abstract DeviceTensor Slice(int[] shape, long offset);

    /// <summary>Queues a copy of <paramref name="source"/> (exactly <see cref="Length"/> values) into this tensor.</summary>
    public abstract void CopyFromHost(ReadOnlySpan<float> source);

    /// <summary>Waits for the device, then copies this tensor into <paramref name="destination"/> (exactly <see cref="Length"/> values).</summary>
    public abstract void CopyToHost(Span<float> destination);

    /// <summary>Queues a device-to-device copy into <paramref name="destination"/> (same device, same length).</summary>
    public abstract void CopyTo(DeviceTensor destination);

    /// <summary>A new host tensor with this tensor's values (waits for the device).</summary>
    public Tensor ToHost()
    {
        var host = Tensor.Uninitialized(_shape);
        try { CopyToHost(host.Span); }
        catch { host.Dispose(); throw; }
        return host;
    }

    /// <summary>Gives owned storage back to the device's pool; views free nothing.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the storage; called once by <see cref="Dispose()"/>.</summary>
    protected abstract void Dispose(bool disposing);
}
