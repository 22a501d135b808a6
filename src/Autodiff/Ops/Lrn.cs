using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Cross-channel LRN, any shape with channels last. Backward reads only x (scale and y are
    /// recomputed). Kernels: <see cref="Tensors.Lrn"/>, src/Gpu/LrnKernels.cs; reference: <see cref="LrnReference"/>.
    /// </summary>
    public Variable Lrn(Variable x, LrnParameters p, string name = "lrn")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        if (device is null) Tensors.Lrn.Forward(p, x.Value, y);
        else device.Kernels.LrnForward(p, x.Value.DeviceData, y.DeviceData);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null) Tensors.Lrn.Backward(p, x.Value, dy, dx, acc);
            else device.Kernels.LrnBackward(p, x.Value.DeviceData, dy.DeviceData, dx.DeviceData, acc);
        }, saves: [x], kind: "lrn");
    }
}
