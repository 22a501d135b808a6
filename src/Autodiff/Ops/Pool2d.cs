using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Max pool [N, H, W, C] → [N, OH, OW, C]. Backward routes each gradient to the window position that
    /// held the maximum, which the forward recorded per output (a byte on the host, an int on a device).
    /// Kernels: <see cref="Pool2d"/>, src/Gpu/Pool2dKernels.cs; reference: <see cref="Pool2dReference"/>.
    /// </summary>
    public Variable MaxPool(Variable x, WindowGeometry g, string name = "maxpool")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, g.C);
        var taps = new MaxPoolTaps(device, y.Length);
        try
        {
            if (device is null) Pool2d.MaxForward(g, x.Value, y, taps.Host!.Array);
            else device.Kernels.MaxPoolForward(g, x.Value.DeviceData, y.DeviceData, taps.DeviceView);
        }
        catch { y.Dispose(); taps.Dispose(); throw; }
        bool kept = false;
        var result = Record(y, name, [x], () =>
        {
            KeepForBackward(taps);
            kept = true;
            return dy =>
            {
                var (dx, acc) = GradTarget(x);
                if (device is null) Pool2d.MaxBackward(g, dy, taps.Host!.Array, dx, acc);
                else device.Kernels.MaxPoolBackward(g, dy.DeviceData, taps.DeviceView, dx.DeviceData, acc);
            };
        }, kind: "maxpool");
        // Not recorded: the taps go back to their pool (on a device, later kernels on the stream run after this one).
        if (!kept) taps.Dispose();
        return result;
    }

    /// <summary>Average pool [N, H, W, C] → [N, OH, OW, C]. Backward spreads dy/divisor over each window.</summary>
    public Variable AvgPool(Variable x, WindowGeometry g, AvgPoolDivisor divisor, string name = "avgpool")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, g.C);
        if (device is null) Pool2d.AvgForward(g, x.Value, y, divisor);
        else device.Kernels.AvgPoolForward(g, x.Value.DeviceData, y.DeviceData, divisor);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null) Pool2d.AvgBackward(g, dy, dx, divisor, acc);
            else device.Kernels.AvgPoolBackward(g, dy.DeviceData, dx.DeviceData, divisor, acc);
        }, kind: "avgpool");
    }

    /// <summary>Which window position won, per output: pooled bytes on the host, pooled ints (4 bytes either way) on a device.</summary>
    private sealed class MaxPoolTaps : IDisposable
    {
        public PooledBytes? Host { get; }
        private readonly DeviceTensor? _device;

        public MaxPoolTaps(ComputeDevice? device, int outputs)
        {
            if (device is null) Host = new PooledBytes(outputs);
            else _device = device.Allocate(outputs);
        }

        public DeviceTensor DeviceView => _device!;

        public void Dispose()
        {
            Host?.Dispose();
            _device?.Dispose();
        }
    }
}
