using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Max and average pooling, forward and backward, one thread per output (forward) or input (backward) element.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, WindowGeometry> _maxPool = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, WindowGeometry, int> _maxPoolBackward = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int> _avgPool = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _avgPoolBackward = null!;

    private void LoadPool2dKernels(Accelerator accelerator)
    {
        _maxPool = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, WindowGeometry>(MaxPoolKernel);
        _maxPoolBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, WindowGeometry, int>(MaxPoolBackwardKernel);
        _avgPool = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int>(AvgPoolKernel);
        _avgPoolBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(AvgPoolBackwardKernel);
    }

    /// <summary>Max pool; taps[i] = window position (kh·KW + kw) of the first maximum (Caffe's tie rule).</summary>
    /// <inheritdoc />
    public override void MaxPoolForward(WindowGeometry g, DeviceTensor x, DeviceTensor y, DeviceTensor taps) =>
        MaxPoolForward(g, GpuTensor.Of(x), GpuTensor.Of(y), GpuTensor.Of(taps).View.Cast<int>());

    /// <inheritdoc />
    public override void MaxPoolBackward(WindowGeometry g, DeviceTensor dy, DeviceTensor taps, DeviceTensor dx, bool accumulate = false) =>
        MaxPoolBackward(g, GpuTensor.Of(dy), GpuTensor.Of(taps).View.Cast<int>(), GpuTensor.Of(dx), accumulate);

    internal void MaxPoolForward(WindowGeometry g, DeviceTensor x, DeviceTensor y, ArrayView<int> taps)
    {
        RequireShape(x, g.InputShape, "GPU max pool (x)");
        RequireShape(y, [g.N, g.OutH, g.OutW, g.C], "GPU max pool (y)");
        _maxPool(y.Length, x.View, y.View, taps, g);
    }

    private static void MaxPoolKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> taps, WindowGeometry g)
    {
        int c = i % g.C, pixel = i / g.C, ox = pixel % g.OutW, rest = pixel / g.OutW, oy = rest % g.OutH, n = rest / g.OutH;
        float best = float.NegativeInfinity;
        int bestTap = -1;
        for (int kh = 0; kh < g.KernelH; kh++)
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                float v = x[(((long)n * g.H + iy) * g.W + ix) * g.C + c];
                if (bestTap < 0 || v > best) { best = v; bestTap = kh * g.KernelW + kw; }
            }
        y[i] = best;
        taps[i] = bestTap;
    }

    internal void MaxPoolBackward(WindowGeometry g, DeviceTensor dy, ArrayView<int> taps, DeviceTensor dx, bool accumulate = false) =>
        _maxPoolBackward(dx.Length, dy.View, taps, dx.View, g, accumulate ? 1 : 0);

    /// <summary>Gather form: each input element sums dy of the windows whose recorded maximum it is (no atomics).</summary>
    private static void MaxPoolBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> taps, ArrayView<float> dx, WindowGeometry g, int accumulate)
    {
        var w = CoveringWindows.Of(g, i);
        float sum = w.Sum(g, new MaxPoolTerm { Dy = dy, Taps = taps, C = w.C, Channels = g.C, KernelW = g.KernelW });
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>dy of a window that recorded this input as its maximum, else 0.</summary>
    private struct MaxPoolTerm : ICoveringTerm
    {
        public ArrayView<float> Dy;
        public ArrayView<int> Taps;
        public int C, Channels, KernelW;

        public readonly float At(long outputPixel, int oy, int ox, int kh, int kw)
        {
            long o = outputPixel * Channels + C;
            return Taps[o] == kh * KernelW + kw ? Dy[o] : 0f;
        }
    }

    /// <summary>What one covering window adds to an input element's gradient (see <see cref="CoveringWindows.Sum"/>).</summary>
    internal interface ICoveringTerm
    {
        float At(long outputPixel, int oy, int ox, int kh, int kw);
    }

    /// <summary>
    /// Input element i of an NHWC tensor (n, iy, ix, c) and the output windows [Oy0, Oy1] × [Ox0, Ox1]
    /// that cover it: the gather-form backward kernels (pools, col2im) visit only those few, with no atomics.
    /// </summary>
    internal struct CoveringWindows
    {
        public int N, Iy, Ix, C, Oy0, Oy1, Ox0, Ox1;

        public static CoveringWindows Of(WindowGeometry g, int i)
        {
            int pixel = i / g.C, rest = pixel / g.W;
            var w = new CoveringWindows { C = i % g.C, Ix = pixel % g.W, Iy = rest % g.H, N = rest / g.H };
            w.Oy0 = FirstCovering(w.Iy + g.PadTop, g.KernelH, g.StrideH);
            w.Oy1 = XMath.Min(g.OutH - 1, (w.Iy + g.PadTop) / g.StrideH);
            w.Ox0 = FirstCovering(w.Ix + g.PadLeft, g.KernelW, g.StrideW);
            w.Ox1 = XMath.Min(g.OutW - 1, (w.Ix + g.PadLeft) / g.StrideW);
            return w;
        }

        /// <summary>
        /// Σ term.At(p, oy, ox, kh, kw) over the covering windows: output pixel p = (n, oy, ox) met this input
        /// at tap (kh, kw). The one loop every gather-form backward shares; the term says what each window adds.
        /// </summary>
        public readonly float Sum<T>(WindowGeometry g, T term) where T : struct, ICoveringTerm
        {
            float sum = 0f;
            for (int oy = Oy0; oy <= Oy1; oy++)
            {
                int kh = Iy + g.PadTop - oy * g.StrideH;
                for (int ox = Ox0; ox <= Ox1; ox++)
                    sum += term.At(((long)N * g.OutH + oy) * g.OutW + ox, oy, ox, kh, Ix + g.PadLeft - ox * g.StrideW);
            }
            return sum;
        }

        /// <summary>The first output whose window [o·stride, o·stride + kernel) covers padded position p.</summary>
        private static int FirstCovering(int p, int kernel, int stride)
        {
            int numerator = p - kernel + 1;
            return numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
        }
    }

    /// <inheritdoc />
    public override void AvgPoolForward(WindowGeometry g, DeviceTensor x, DeviceTensor y, AvgPoolDivisor divisor) =>
        _avgPool(y.Length, x.View, y.View, g, divisor == AvgPoolDivisor.ValidOnly ? 1 : 0);

    private static float AvgScale(WindowGeometry g, int oy, int ox, int validOnly)
    {
        int ys = oy * g.StrideH - g.PadTop, xs = ox * g.StrideW - g.PadLeft;
        int count = validOnly != 0
            ? (XMath.Min(ys + g.KernelH, g.H) - XMath.Max(ys, 0)) * (XMath.Min(xs + g.KernelW, g.W) - XMath.Max(xs, 0))
            : (XMath.Min(ys + g.KernelH, g.H + g.PadTop) - ys) * (XMath.Min(xs + g.KernelW, g.W + g.PadLeft) - xs);
        return 1f / count;
    }

    private static void AvgPoolKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, WindowGeometry g, int validOnly)
    {
        int c = i % g.C, pixel = i / g.C, ox = pixel % g.OutW, rest = pixel / g.OutW, oy = rest % g.OutH, n = rest / g.OutH;
        float sum = 0f;
        for (int kh = 0; kh < g.KernelH; kh++)
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) sum += x[(((long)n * g.H + iy) * g.W + ix) * g.C + c];
            }
        y[i] = sum * AvgScale(g, oy, ox, validOnly);
    }

    /// <inheritdoc />
    public override void AvgPoolBackward(WindowGeometry g, DeviceTensor dy, DeviceTensor dx, AvgPoolDivisor divisor, bool accumulate = false) =>
        _avgPoolBackward(dx.Length, dy.View, dx.View, g, divisor == AvgPoolDivisor.ValidOnly ? 1 : 0, accumulate ? 1 : 0);

    private static void AvgPoolBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, WindowGeometry g, int validOnly, int accumulate)
    {
        var w = CoveringWindows.Of(g, i);
        float sum = w.Sum(g, new AvgPoolTerm { Dy = dy, Geometry = g, C = w.C, ValidOnly = validOnly });
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>dy of every covering window, divided by its divisor.</summary>
    private struct AvgPoolTerm : ICoveringTerm
    {
        public ArrayView<float> Dy;
        public WindowGeometry Geometry;
        public int C, ValidOnly;

        public readonly float At(long outputPixel, int oy, int ox, int kh, int kw) =>
            Dy[outputPixel * Geometry.C + C] * AvgScale(Geometry, oy, ox, ValidOnly);
    }
}
