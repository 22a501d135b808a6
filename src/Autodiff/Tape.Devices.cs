using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>What every op file shares: where the inputs live, and the pooled byte arrays the host keeps for backward.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// The device all of an op's inputs are on (null: host memory). Inputs on different devices, or some
    /// on the host and some on a device, are an error that says how to move them.
    /// </summary>
    private static ComputeDevice? DeviceOf(string op, Variable first, params Variable?[] others)
    {
        var device = first.Value.Device;
        foreach (var v in others)
            if (v is not null && !ReferenceEquals(v.Value.Device, device))
                throw new ArgumentException($"{op}: {first} is {Where(device)} but {v} is {Where(v.Value.Device)}; move the model with ToDevice(...) and the inputs with Tensor.To(...).");
        return device;
    }

    private static string Where(ComputeDevice? device) => device is null ? "in host memory" : $"on {device.Kind} device {device.Name}";

    /// <summary>A byte array from the scratch pool that goes back on Dispose (ReLU masks, max-pool taps).</summary>
    private sealed class PooledBytes(int length) : IDisposable
    {
        public byte[] Array { get; private set; } = ScratchPool.RentBytes(length);

        /// <summary>mask[i] = 1 where y[i] &gt; 0.</summary>
        public static PooledBytes ReluMask(ReadOnlySpan<float> y)
        {
            var mask = new PooledBytes(y.Length);
            Tensors.Relu.Mask(y, mask.Array);
            return mask;
        }

        public void Dispose()
        {
            if (Array.Length == 0) return;
            ScratchPool.ReturnBytes(Array);
            Array = [];
        }
    }
}
