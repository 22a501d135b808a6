using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Depthwise convolution on the device: one thread per output (forward), per input (gather backward-data), per filter value (backward-filter).</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int> _depthwise = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int> _depthwiseBackwardData = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int> _depthwiseBackwardFilter = null!;

    private void LoadDepthwiseConv2dKernels(Accelerator accelerator)
    {
        _depthwise = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int>(DepthwiseKernel);
        _depthwiseBackwardData = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int>(DepthwiseBackwardDataKernel);
        _depthwiseBackwardFilter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int>(DepthwiseBackwardFilterKernel);
    }

    /// <summary>y[N, OH, OW, C] = depthwise x ⊛ w[KH, KW, C] + bias[C] (bias optional).</summary>
    public override void DepthwiseConvForward(WindowGeometry g, DeviceTensor x, DeviceTensor w, DeviceTensor? bias, DeviceTensor y) =>
        _depthwise(y.Length, x.View, w.View, bias?.View ?? w.View, y.View, g, bias is null ? 0 : 1);

    private static void DepthwiseKernel(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, WindowGeometry g, int hasBias)
    {
        int c = i % g.C, pixel = i / g.C, ox = pixel % g.OutW, rest = pixel / g.OutW, oy = rest % g.OutH, n = rest / g.OutH;
        float s = hasBias != 0 ? bias[c] : 0f;
        for (int kh = 0; kh < g.KernelH; kh++)
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) s += x[(((long)n * g.H + iy) * g.W + ix) * g.C + c] * w[(kh * g.KernelW + kw) * g.C + c];
            }
        y[i] = s;
    }

    /// <summary>dx (+)= Σ over covering windows of dy ⊙ w (gather form, no atomics).</summary>
    public override void DepthwiseConvBackwardData(WindowGeometry g, DeviceTensor dy, DeviceTensor w, DeviceTensor dx, bool accumulate = false) =>
        _depthwiseBackwardData(dx.Length, dy.View, w.View, dx.View, g, accumulate ? 1 : 0);

    private static void DepthwiseBackwardDataKernel(Index1D i, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, WindowGeometry g, int accumulate)
    {
        var windows = CoveringWindows.Of(g, i);
        float sum = windows.Sum(g, new DepthwiseTerm { Dy = dy, W = w, C = windows.C, Channels = g.C, KernelW = g.KernelW });
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>dy of a covering window times the filter value of the tap that met this input.</summary>
    private struct DepthwiseTerm : ICoveringTerm
    {
        public ArrayView<float> Dy, W;
        public int C, Channels, KernelW;

        public readonly float At(long outputPixel, int oy, int ox, int kh, int kw) => Dy[outputPixel * Channels + C] * W[(kh * KernelW + kw) * Channels + C];
    }

    /// <summary>dw[KH, KW, C] (+)= Σ over output pixels of x at the tap ⊙ dy: one thread per filter value.</summary>
    public override void DepthwiseConvBackwardFilter(WindowGeometry g, DeviceTensor x, DeviceTensor dy, DeviceTensor dw, bool accumulate = false) =>
        _depthwiseBackwardFilter(dw.Length, x.View, dy.View, dw.View, g, accumulate ? 1 : 0);

    private static void DepthwiseBackwardFilterKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g, int accumulate)
    {
        int c = i % g.C, tap = i / g.C, kh = tap / g.KernelW, kw = tap % g.KernelW;
        float s = 0f;
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh;
                if (iy < 0 || iy >= g.H) continue;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kw;
                    if (ix >= 0 && ix < g.W) s += x[(((long)n * g.H + iy) * g.W + ix) * g.C + c] * dy[(((long)n * g.OutH + oy) * g.OutW + ox) * g.C + c];
                }
            }
        dw[i] = accumulate != 0 ? dw[i] + s : s;
    }
}
