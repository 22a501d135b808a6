using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Fully connected: x [N, ...] flattened to [N, I], w [I, O], bias [O] → [N, O]. dX = dy·Wᵀ,
    /// dW = xᵀ·dy, db = Σ dy. On a device it is the 1×1 convolution of [N, 1, 1, I] with [1, 1, I, O]
    /// (the same memory layouts), so it shares the convolution kernels. Kernels: <see cref="Tensors.FullyConnected"/>,
    /// src/Gpu/Conv2dKernels.cs; reference: <see cref="FullyConnectedReference"/>.
    /// </summary>
    public Variable FullyConnected(Variable x, Variable w, Variable? bias, string name = "fc")
    {
        var device = DeviceOf(name, x, w, bias);
        int n = x.Value.Dim(0), inputs = w.Value.Dim(0), outputs = w.Value.Dim(w.Value.Rank - 1);
        if (device is not null && x.Value.Length != n * inputs)
            throw new ArgumentException($"{name}: input shape {x.Value.ShapeString} does not flatten to [{n}, {inputs}] for weights {w.Value.ShapeString}.");
        var y = Tensor.Uninitialized(device, n, outputs);
        var g = new WindowGeometry(n, 1, 1, inputs, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
        try
        {
            if (device is null) Tensors.FullyConnected.Forward(x.Value, w.Value, bias?.Value, y);
            else
            {
                using var xv = x.Value.DeviceData.Reshape([n, 1, 1, inputs]);
                using var wv = w.Value.DeviceData.Reshape([1, 1, inputs, outputs]);
                using var yv = y.DeviceData.Reshape([n, 1, 1, outputs]);
                device.Kernels.ConvForward(g, xv, wv, bias?.Value.DeviceData, yv, relu: false);
            }
        }
        catch { y.Dispose(); throw; }
        Variable[] inputVariables = bias is null ? [x, w] : [x, w, bias];
        return Record(y, name, inputVariables, () => dy =>
        {
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                if (device is null) Tensors.FullyConnected.BackwardData(dy, w.Value, dx, acc);
                else
                {
                    using var dyv = dy.DeviceData.Reshape([n, 1, 1, outputs]);
                    using var wv = w.Value.DeviceData.Reshape([1, 1, inputs, outputs]);
                    using var dxv = dx.DeviceData.Reshape([n, 1, 1, inputs]);
                    device.Kernels.ConvBackwardData(g, dyv, wv, dxv, acc);
                }
            }
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                if (device is null) Tensors.FullyConnected.BackwardWeights(x.Value, dy, dw, null, acc);
                else
                {
                    using var xv = x.Value.DeviceData.Reshape([n, 1, 1, inputs]);
                    using var dyv = dy.DeviceData.Reshape([n, 1, 1, outputs]);
                    using var dwv = dw.DeviceData.Reshape([1, 1, inputs, outputs]);
                    device.Kernels.ConvBackwardFilter(g, xv, dyv, dwv, acc);
                }
            }
            if (bias is { RequiresGrad: true })
            {
                var (db, acc) = GradTarget(bias);
                Tensor.ColumnSumsInto(db, dy, acc);
            }
        }, saves: w.RequiresGrad ? [x] : null, kind: "fc");
    }
}
