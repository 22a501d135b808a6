using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y[n, …, c] = x[n, …, c]·s[n, c]: each image's channels times its own gates (squeeze-and-excitation).
    /// dx = dy ⊙ s; ds = Σ over pixels of dy ⊙ x. Kernels: <see cref="Tensors.ScaleChannels"/>,
    /// src/Gpu/ElementwiseKernels.cs; reference: <see cref="ScaleChannelsReference"/>.
    /// </summary>
    public Variable ScaleChannels(Variable x, Variable s, string name = "scale_channels")
    {
        var device = DeviceOf(name, x, s);
        var xs = x.Value; var ss = s.Value;
        if (xs.Rank < 2 || ss.Rank != 2 || ss.Dim(0) != xs.Dim(0) || ss.Dim(1) != xs.Dim(xs.Rank - 1))
            throw new ArgumentException($"{name}: scales of shape {ss.ShapeString} do not match [N, C] of {xs.ShapeString}.");
        var y = Tensor.Uninitialized(device, xs.Shape.ToArray());
        if (device is null) Tensors.ScaleChannels.Forward(xs, ss, y);
        else device.Kernels.ScaleChannels(xs.DeviceData, ss.DeviceData, y.DeviceData);
        return Record(y, name, [x, s], () => dy =>
        {
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                if (device is null) Tensors.ScaleChannels.BackwardInput(dy, s.Value, dx, acc);
                else device.Kernels.ScaleChannels(dy.DeviceData, s.Value.DeviceData, dx.DeviceData, acc);
            }
            if (s.RequiresGrad)
            {
                var (ds, acc) = GradTarget(s);
                if (device is null) Tensors.ScaleChannels.BackwardScale(dy, x.Value, ds, acc);
                else device.Kernels.ScaleChannelsBackwardScale(dy.DeviceData, x.Value.DeviceData, ds.DeviceData, acc);
            }
        }, saves: [x, s], kind: "scale_channels");
    }
}
