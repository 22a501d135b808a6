using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// [N, H, W, C] → [N, C·H·W] in NCHW order (ONNX's Flatten of a spatial map); dx is dy permuted back.
    /// Kernels: <see cref="Tensors.FlattenChannelsFirst"/>, src/Gpu/ElementwiseKernels.cs.
    /// </summary>
    public Variable FlattenChannelsFirst(Variable x, string name = "flatten")
    {
        var device = DeviceOf(name, x);
        var v = x.Value;
        if (v.Rank != 4) throw new ArgumentException($"{name}: {v.ShapeString} is not [N, H, W, C].");
        int plane = v.Dim(1) * v.Dim(2), c = v.Dim(3);
        var y = Tensor.Uninitialized(device, v.Dim(0), v.Length / v.Dim(0));
        if (device is null) Tensors.FlattenChannelsFirst.Forward(v, y);
        else device.Kernels.FlattenChannelsFirst(v.DeviceData, y.DeviceData, plane, c, FlattenDirection.Forward);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is null) Tensors.FlattenChannelsFirst.Backward(dy, dx, acc);
            else device.Kernels.FlattenChannelsFirst(dx.DeviceData, dy.DeviceData, plane, c, acc ? FlattenDirection.BackwardAccumulate : FlattenDirection.BackwardOverwrite);
        }, kind: "flatten");
    }
}
