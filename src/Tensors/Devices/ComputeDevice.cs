namespace NativeIg.Tensors;

/// <summary>
/// Where a tensor can live other than host memory: a device with its own memory and kernels. The CPU
/// libraries know only this contract; an implementation supplies the storage (<see cref="DeviceTensor"/>)
/// and the ops (<see cref="DeviceKernels"/>). NativeIg.Gpu provides the ILGPU one (CUDA, OpenCL, and
/// ILGPU's CPU accelerator), so an app that never uses a GPU never loads ILGPU.
/// </summary>
public abstract class ComputeDevice : IDisposable
{
    /// <summary>The kind of device, as users name it (for example <c>cuda</c> or <c>ilgpu-cpu</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>The device's own name (for example the GPU model), for messages and reports.</summary>
    public abstract string Name { get; }

    /// <summary>Every tensor op, forward and backward, on this device.</summary>
    public abstract DeviceKernels Kernels { get; }

    /// <summary>Device memory of the given shape, with undefined contents.</summary>
    public abstract DeviceTensor Allocate(params int[] shape);

    /// <summary>A copy of a host tensor in device memory.</summary>
    public DeviceTensor Upload(Tensor host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var storage = Allocate(host.Shape.ToArray());
        storage.CopyFromHost(host.Span);
        return storage;
    }

    /// <summary>Waits until every queued kernel and copy on this device has finished.</summary>
    public abstract void Synchronize();

    /// <summary>Frees the device and the memory its pool holds.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the device's resources; called once by <see cref="Dispose()"/>.</summary>
    protected abstract void Dispose(bool disposing);

    /// <inheritdoc />
    public override string ToString() => $"{Kind} device {Name}";
}
