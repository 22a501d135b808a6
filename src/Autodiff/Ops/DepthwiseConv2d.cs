using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Depthwise convolution (each channel with its own filter): x [N, H, W, C], w [KH, KW, C], bias [C]
    /// → [N, OH, OW, C]. Backward: dX gathers dy ⊙ w over the covering windows (reads only w); dW and db
    /// sum x ⊙ dy over pixels (read x). Kernels: <see cref="Tensors.DepthwiseConv2d"/>,
    /// src/Gpu/DepthwiseConv2dKernels.cs; reference: <see cref="DepthwiseConv2dReference"/>.
    /// </summary>
    public Variable DepthwiseConv2d(Variable x, Variable w, Variable? bias, WindowGeometry g, string name = "depthwise")
    {
        var device = DeviceOf(name, x, w, bias);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, g.C);
        try
        {
            if (device is null) Tensors.DepthwiseConv2d.Forward(g, x.Value, w.Value, bias?.Value, y);
            else
            {
                g.RequireInput(x.Value, name);
                device.Kernels.DepthwiseConvForward(g, x.Value.DeviceData, w.Value.DeviceData, bias?.Value.DeviceData, y.DeviceData);
            }
        }
        catch { y.Dispose(); throw; }
        Variable[] inputs = bias is null ? [x, w] : [x, w, bias];
        bool filterGrad = w.RequiresGrad || bias is { RequiresGrad: true };
        return Record(y, name, inputs, () => dy =>
        {
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                if (device is null) Tensors.DepthwiseConv2d.BackwardData(g, dy, w.Value, dx, acc);
                else device.Kernels.DepthwiseConvBackwardData(g, dy.DeviceData, w.Value.DeviceData, dx.DeviceData, acc);
            }
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                if (device is null) Tensors.DepthwiseConv2d.BackwardFilter(g, x.Value, dy, dw, null, acc);
                else device.Kernels.DepthwiseConvBackwardFilter(g, x.Value.DeviceData, dy.DeviceData, dw.DeviceData, acc);
            }
            if (bias is { RequiresGrad: true })
            {
                var (db, acc) = GradTarget(bias);
                Tensor.ColumnSumsInto(db, dy, acc);
            }
        }, saves: filterGrad ? [x] : null, kind: $"depthwise{g.KernelH}x{g.KernelW}/{g.StrideH}");
    }
}
