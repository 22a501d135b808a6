using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Convolution, NHWC x [N, H, W, CI] with HWIO w [KH, KW, CI, CO] and bias [CO] → [N, OH, OW, CO],
    /// optionally followed by ReLU. Backward: dy is masked where the ReLU was off, then dX by the
    /// backward-data GEMM (reads only w) and dW/db by the backward-filter GEMM (reads x) — each only when
    /// needed. Kernels: <see cref="Tensors.Conv2d"/> (host), <c>GpuKernels.ConvForward/ConvBackward*</c>
    /// (src/Gpu/Conv2dKernels.cs); reference: <see cref="Conv2dReference"/>.
    /// </summary>
    public Variable Conv2d(Variable x, Variable w, Variable? bias, WindowGeometry g, bool relu = false, string name = "conv")
    {
        var device = DeviceOf(name, x, w, bias);
        int co = w.Value.Dim(w.Value.Rank - 1);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, co);
        try
        {
            if (device is null)
            {
                // Frozen filters are packed for the GEMM once and kept on the parameter.
                var packed = w.Derived("conv-forward", () => Tensors.Conv2d.PackForward(w.Value));
                Tensors.Conv2d.Forward(g, x.Value, w.Value, bias?.Value, y, relu, kernel: null, packedFilter: packed);
            }
            else device.Kernels.ConvForward(g, x.Value.DeviceData, w.Value.DeviceData, bias?.Value.DeviceData, y.DeviceData, relu);
        }
        catch { y.Dispose(); throw; }
        Variable[] inputs = bias is null ? [x, w] : [x, w, bias];
        bool filterGrad = w.RequiresGrad || bias is { RequiresGrad: true };
        return Record(y, name, inputs, () =>
        {
            // The host keeps a byte per value of where the ReLU let the gradient through (a quarter of
            // y); the device keeps y itself (savesOutput below) and tests y > 0 in the kernel.
            var mask = relu && device is null ? PooledBytes.ReluMask(y.Span) : null;
            if (mask is not null) KeepForBackward(mask);
            return dy =>
            {
                // dy is this op's own output gradient, used up after this call: mask it in place.
                if (mask is not null) Tensors.Relu.ApplyMask(dy.Span, mask.Array);
                else if (relu) device!.Kernels.ReluBackward(y.DeviceData, dy.DeviceData, dy.DeviceData);
                if (x.RequiresGrad)
                {
                    var (dx, acc) = GradTarget(x);
                    if (device is null)
                    {
                        var packed = w.Derived("conv-backward-data:" + Tensors.Conv2d.BackwardDataRoute(g), () => Tensors.Conv2d.PackBackwardData(g, w.Value));
                        Tensors.Conv2d.BackwardData(g, dy, w.Value, dx, acc, kernel: null, packedFilter: packed);
                    }
                    else device.Kernels.ConvBackwardData(g, dy.DeviceData, w.Value.DeviceData, dx.DeviceData, acc);
                }
                if (filterGrad) FilterGradients(g, x, w, bias, dy);
            };
        }, saves: filterGrad ? [x] : null, savesOutput: relu && device is not null, kind: $"conv{g.KernelH}x{g.KernelW}/{g.StrideH}");
    }

    /// <summary>Caffe-style convolution: square kernel from w's shape, symmetric pad, floor rounding.</summary>
    public Variable Conv2d(Variable x, Variable w, Variable? bias, int stride, int pad, bool relu = false, string name = "conv")
    {
        var xs = x.Value;
        if (xs.Rank != 4) throw new ArgumentException($"{name}: input shape {xs.ShapeString} is not NHWC.");
        if (w.Value.Rank != 4 || w.Value.Dim(0) != w.Value.Dim(1))
            throw new ArgumentException($"{name}: filter shape {w.Value.ShapeString} is not a square HWIO filter.");
        var g = WindowGeometry.ConvCaffe(xs.Dim(0), xs.Dim(1), xs.Dim(2), xs.Dim(3), w.Value.Dim(0), stride, pad);
        return Conv2d(x, w, bias, g, relu, name);
    }

    /// <summary>dW = col(x)ᵀ·dy and db = Σ dy over pixels, for whichever of w and bias wants a gradient.</summary>
    private static void FilterGradients(WindowGeometry g, Variable x, Variable w, Variable? bias, Tensor dy)
    {
        var device = x.Device;
        Tensor? db = null; bool accB = false;
        if (bias is { RequiresGrad: true }) (db, accB) = GradTarget(bias);
        if (device is not null)
        {
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                device.Kernels.ConvBackwardFilter(g, x.Value.DeviceData, dy.DeviceData, dw.DeviceData, acc);
            }
            if (db is not null) Tensor.ColumnSumsInto(db, dy, accB);
            return;
        }
        // The host kernel computes dW and db in one pass; a frozen w gets a scratch dW.
        var (dwHost, accW) = w.RequiresGrad ? GradTarget(w) : (Tensor.Uninitialized(w.Value.Shape.ToArray()), false);
        // One accumulate flag serves both; when they differ, the bias part is summed separately.
        if (db is not null && accB != accW)
        {
            Tensors.Conv2d.BackwardFilter(g, x.Value, dy, dwHost, null, accW);
            Tensor.ColumnSumsInto(db, dy, accB);
        }
        else Tensors.Conv2d.BackwardFilter(g, x.Value, dy, dwHost, db, accW);
        if (!w.RequiresGrad) dwHost.Dispose();
    }
}
