using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Tensors.Gpu;

/// <summary>
/// The tensor core's ops as ILGPU kernels, forward and backward, in the CPU kernels' layouts (NHWC
/// activations, HWIO filters). GEMM and convolution are tiled through shared memory; convolution is
/// an implicit GEMM (im2col values are computed as tiles are loaded, never materialised). Every kernel
/// is compiled once per device, on first use.
/// </summary>
public sealed class GpuKernels
{
    private const int Tile = 16;
    private readonly Accelerator _accelerator;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags> _conv;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _convBackwardDataStrided;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _convBackwardFilter;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _flipFilter;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, WindowGeometry> _maxPool;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, WindowGeometry, int> _maxPoolBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int> _avgPool;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _avgPoolBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, LrnParameters, int> _lrn;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, LrnParameters, int, int> _lrnBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _softmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _softmaxBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reluBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _copyChannels;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int> _axpby;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _multiply;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float, int> _minimum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int> _minimumBackward;
    private readonly Action<Index1D, ArrayView<float>, float, int> _fill;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _columnSums;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _selectColumn;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _logSoftmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _logSoftmaxBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> _channelAffine;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _channelAffineBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _sum;

    internal GpuKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernel);
        _conv = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags>(ConvKernel);
        _convBackwardDataStrided = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(ConvBackwardDataGatherKernel);
        _convBackwardFilter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(ConvBackwardFilterKernel);
        _flipFilter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(FlipFilterKernel);
        _maxPool = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, WindowGeometry>(MaxPoolKernel);
        _maxPoolBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, WindowGeometry, int>(MaxPoolBackwardKernel);
        _avgPool = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int>(AvgPoolKernel);
        _avgPoolBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(AvgPoolBackwardKernel);
        _lrn = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, LrnParameters, int>(LrnKernel);
        _lrnBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, LrnParameters, int, int>(LrnBackwardKernel);
        _softmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernel);
        _softmaxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxBackwardKernel);
        _reluBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ReluBackwardKernel);
        _copyChannels = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(CopyChannelsKernel);
        _axpby = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int>(AxpbyKernel);
        _multiply = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MultiplyKernel);
        _minimum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, int>(MinimumKernel);
        _minimumBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(MinimumBackwardKernel);
        _fill = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float, int>(FillKernel);
        _columnSums = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ColumnSumsKernel);
        _selectColumn = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(SelectColumnKernel);
        _logSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(LogSoftmaxKernel);
        _logSoftmaxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LogSoftmaxBackwardKernel);
        _channelAffine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ChannelAffineKernel);
        _channelAffineBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(ChannelAffineBackwardKernel);
        _sum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(SumKernel);
    }

    // ---------------------------------------------------------------- GEMM

    /// <summary>Strides let one kernel serve all transposes: A[i, p] = a[i·AI + p·AK], B[p, j] = b[p·BK + j·BJ].</summary>
    public readonly record struct GemmShape(int M, int N, int K, int AI, int AK, int BK, int BJ, int Accumulate);

    /// <summary>C[M×N] (+)= op(A)·op(B), row-major, as <see cref="Gemm.Multiply(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, bool, GemmKernel?)"/>.</summary>
    public void Gemm(int m, int n, int k, GpuTensor a, int lda, bool transA, GpuTensor b, int ldb, bool transB, GpuTensor c, bool accumulate = false)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GPU GEMM {m}×{n}×{k}: operands of {a.Length}, {b.Length} and {c.Length} values are too small.");
        var shape = new GemmShape(m, n, k, transA ? 1 : lda, transA ? lda : 1, transB ? 1 : ldb, transB ? ldb : 1, accumulate ? 1 : 0);
        _gemm(TiledConfig(m, n), a.View, b.View, c.View, shape);
    }

    private static KernelConfig TiledConfig(int m, int n) =>
        new(new Index2D((n + Tile - 1) / Tile, (m + Tile - 1) / Tile), new Index2D(Tile, Tile));

    private static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        var aTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        var bTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * Tile + ty, col = Grid.IdxX * Tile + tx;
        float sum = 0f;
        for (int k0 = 0; k0 < s.K; k0 += Tile)
        {
            int ak = k0 + tx, bk = k0 + ty;
            aTile[ty, tx] = row < s.M && ak < s.K ? a[(long)row * s.AI + (long)ak * s.AK] : 0f;
            bTile[ty, tx] = bk < s.K && col < s.N ? b[(long)bk * s.BK + (long)col * s.BJ] : 0f;
            Group.Barrier();
            for (int p = 0; p < Tile; p++) sum += aTile[ty, p] * bTile[p, tx];
            Group.Barrier();
        }
        if (row < s.M && col < s.N)
        {
            long at = (long)row * s.N + col;
            c[at] = s.Accumulate != 0 ? c[at] + sum : sum;
        }
    }

    // ---------------------------------------------------------------- convolution

    public readonly record struct ConvFlags(int Channels, int HasBias, int Relu, int Accumulate);

    /// <summary>y = x ⊛ w (+ bias, ReLU): the implicit GEMM Y[P, CO] = col(x)[P, K]·W[K, CO].</summary>
    public void ConvForward(WindowGeometry g, GpuTensor x, GpuTensor w, GpuTensor? bias, GpuTensor y, bool relu)
    {
        int co = w.Dim(3);
        RequireShape(x, g.InputShape, "GPU conv forward (x)");
        RequireShape(w, [g.KernelH, g.KernelW, g.C, co], "GPU conv forward (w)");
        RequireShape(y, [g.N, g.OutH, g.OutW, co], "GPU conv forward (y)");
        _conv(TiledConfig(g.OutputPixels, co), x.View, w.View, bias?.View ?? w.View, y.View, g,
            new ConvFlags(co, bias is null ? 0 : 1, relu ? 1 : 0, 0));
    }

    private static void ConvKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, WindowGeometry g, ConvFlags f)
    {
        var aTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        var bTile = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        int tx = Group.IdxX, ty = Group.IdxY;
        int p = Grid.IdxY * Tile + ty, o = Grid.IdxX * Tile + tx;
        int pixels = g.N * g.OutH * g.OutW, k = g.KernelH * g.KernelW * g.C, co = f.Channels;
        int plane = g.OutH * g.OutW;
        int n = p / plane, r = p - n * plane, oy = r / g.OutW, ox = r - oy * g.OutW;
        float sum = 0f;
        for (int k0 = 0; k0 < k; k0 += Tile)
        {
            int kk = k0 + tx;
            float a = 0f;
            if (p < pixels && kk < k)
            {
                int tap = kk / g.C, ci = kk - tap * g.C, kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) a = x[(((long)n * g.H + iy) * g.W + ix) * g.C + ci];
            }
            aTile[ty, tx] = a;
            int kb = k0 + ty;
            bTile[ty, tx] = kb < k && o < co ? w[(long)kb * co + o] : 0f;
            Group.Barrier();
            for (int q = 0; q < Tile; q++) sum += aTile[ty, q] * bTile[q, tx];
            Group.Barrier();
        }
        if (p < pixels && o < co)
        {
            long at = (long)p * co + o;
            if (f.Accumulate != 0) sum += y[at];
            if (f.HasBias != 0) sum += bias[o];
            if (f.Relu != 0 && sum < 0f) sum = 0f;
            y[at] = sum;
        }
    }

    /// <summary>dx from dy (already ReLU-masked): stride 1 reuses the implicit GEMM with the flipped filter; larger strides gather.</summary>
    public void ConvBackwardData(WindowGeometry g, GpuTensor dy, GpuTensor w, GpuTensor dx, bool accumulate = false)
    {
        int ci = g.C, co = w.Dim(3);
        RequireShape(dy, [g.N, g.OutH, g.OutW, co], "GPU conv backward-data (dy)");
        RequireShape(dx, g.InputShape, "GPU conv backward-data (dx)");
        if (g.StrideH == 1 && g.StrideW == 1)
        {
            using var flipped = new GpuTensor(w.Device, [g.KernelH, g.KernelW, co, ci]);
            _flipFilter(flipped.Length, w.View, flipped.View, g.KernelH, g.KernelW, ci, co);
            var gt = new WindowGeometry(g.N, g.OutH, g.OutW, co, g.KernelH, g.KernelW, 1, 1,
                g.KernelH - 1 - g.PadTop, g.KernelW - 1 - g.PadLeft, g.KernelH - 1 - g.PadBottom, g.KernelW - 1 - g.PadRight, g.H, g.W);
            _conv(TiledConfig(gt.OutputPixels, ci), dy.View, flipped.View, flipped.View, dx.View, gt, new ConvFlags(ci, 0, 0, accumulate ? 1 : 0));
            _accelerator.Synchronize(); // the flipped filter is freed at the end of this scope
            return;
        }
        _convBackwardDataStrided(dx.Length, dy.View, w.View, dx.View, g, co, accumulate ? 1 : 0);
    }

    private static void FlipFilterKernel(Index1D i, ArrayView<float> w, ArrayView<float> flipped, int kh, int kw, int ci, int co)
    {
        // flipped[y, x, o, c] = w[kh−1−y, kw−1−x, c, o]
        int c = i % ci, rest = i / ci, o = rest % co, tap = rest / co, y = tap / kw, x = tap - y * kw;
        flipped[i] = w[(((long)(kh - 1 - y) * kw + (kw - 1 - x)) * ci + c) * co + o];
    }

    private static void ConvBackwardDataGatherKernel(Index1D i, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, WindowGeometry g, int co, int accumulate)
    {
        int c = i % g.C, pixel = i / g.C, ix = pixel % g.W, rest = pixel / g.W, iy = rest % g.H, n = rest / g.H;
        float sum = 0f;
        for (int kh = 0; kh < g.KernelH; kh++)
        {
            int ty = iy + g.PadTop - kh;
            if (ty < 0 || ty % g.StrideH != 0 || ty / g.StrideH >= g.OutH) continue;
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int tx = ix + g.PadLeft - kw;
                if (tx < 0 || tx % g.StrideW != 0 || tx / g.StrideW >= g.OutW) continue;
                long yRow = (((long)n * g.OutH + ty / g.StrideH) * g.OutW + tx / g.StrideW) * co;
                long wRow = ((long)(kh * g.KernelW + kw) * g.C + c) * co;
                for (int o = 0; o < co; o++) sum += dy[yRow + o] * w[wRow + o];
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>dw[KH, KW, CI, CO] = col(x)ᵀ·dy, one thread per filter weight.</summary>
    public void ConvBackwardFilter(WindowGeometry g, GpuTensor x, GpuTensor dy, GpuTensor dw, bool accumulate = false)
    {
        int co = dw.Dim(3);
        RequireShape(x, g.InputShape, "GPU conv backward-filter (x)");
        RequireShape(dy, [g.N, g.OutH, g.OutW, co], "GPU conv backward-filter (dy)");
        _convBackwardFilter(dw.Length, x.View, dy.View, dw.View, g, co, accumulate ? 1 : 0);
    }

    private static void ConvBackwardFilterKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g, int co, int accumulate)
    {
        int o = i % co, tapChannel = i / co, c = tapChannel % g.C, tap = tapChannel / g.C, kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
        float sum = 0f;
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh;
                if (iy < 0 || iy >= g.H) continue;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kw;
                    if (ix < 0 || ix >= g.W) continue;
                    sum += x[(((long)n * g.H + iy) * g.W + ix) * g.C + c] * dy[(((long)n * g.OutH + oy) * g.OutW + ox) * co + o];
                }
            }
        dw[i] = accumulate != 0 ? dw[i] + sum : sum;
    }

    // ---------------------------------------------------------------- pooling

    /// <summary>Max pool; taps[i] = window position (kh·KW + kw) of the first maximum (Caffe's tie rule).</summary>
    public void MaxPoolForward(WindowGeometry g, GpuTensor x, GpuTensor y, ArrayView<int> taps)
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

    public void MaxPoolBackward(WindowGeometry g, GpuTensor dy, ArrayView<int> taps, GpuTensor dx, bool accumulate = false) =>
        _maxPoolBackward(dx.Length, dy.View, taps, dx.View, g, accumulate ? 1 : 0);

    /// <summary>Gather form: each input element sums dy of the windows whose recorded maximum it is (no atomics).</summary>
    private static void MaxPoolBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> taps, ArrayView<float> dx, WindowGeometry g, int accumulate)
    {
        int c = i % g.C, pixel = i / g.C, ix = pixel % g.W, rest = pixel / g.W, iy = rest % g.H, n = rest / g.H;
        float sum = 0f;
        int oy0 = FirstCovering(iy + g.PadTop, g.KernelH, g.StrideH), oy1 = XMath.Min(g.OutH - 1, (iy + g.PadTop) / g.StrideH);
        int ox0 = FirstCovering(ix + g.PadLeft, g.KernelW, g.StrideW), ox1 = XMath.Min(g.OutW - 1, (ix + g.PadLeft) / g.StrideW);
        for (int oy = oy0; oy <= oy1; oy++)
        {
            int kh = iy + g.PadTop - oy * g.StrideH;
            for (int ox = ox0; ox <= ox1; ox++)
            {
                int kw = ix + g.PadLeft - ox * g.StrideW;
                long o = (((long)n * g.OutH + oy) * g.OutW + ox) * g.C + c;
                if (taps[o] == kh * g.KernelW + kw) sum += dy[o];
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>The first output whose window [o·stride, o·stride + kernel) covers padded position p (only those few are visited).</summary>
    private static int FirstCovering(int p, int kernel, int stride)
    {
        int numerator = p - kernel + 1;
        return numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
    }

    public void AvgPoolForward(WindowGeometry g, GpuTensor x, GpuTensor y, AvgPoolDivisor divisor) =>
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

    public void AvgPoolBackward(WindowGeometry g, GpuTensor dy, GpuTensor dx, AvgPoolDivisor divisor, bool accumulate = false) =>
        _avgPoolBackward(dx.Length, dy.View, dx.View, g, divisor == AvgPoolDivisor.ValidOnly ? 1 : 0, accumulate ? 1 : 0);

    private static void AvgPoolBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, WindowGeometry g, int validOnly, int accumulate)
    {
        int c = i % g.C, pixel = i / g.C, ix = pixel % g.W, rest = pixel / g.W, iy = rest % g.H, n = rest / g.H;
        float sum = 0f;
        int oy0 = FirstCovering(iy + g.PadTop, g.KernelH, g.StrideH), oy1 = XMath.Min(g.OutH - 1, (iy + g.PadTop) / g.StrideH);
        int ox0 = FirstCovering(ix + g.PadLeft, g.KernelW, g.StrideW), ox1 = XMath.Min(g.OutW - 1, (ix + g.PadLeft) / g.StrideW);
        for (int oy = oy0; oy <= oy1; oy++)
            for (int ox = ox0; ox <= ox1; ox++)
                sum += dy[(((long)n * g.OutH + oy) * g.OutW + ox) * g.C + c] * AvgScale(g, oy, ox, validOnly);
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    // ---------------------------------------------------------------- LRN, softmax, element-wise

    public void LrnForward(LrnParameters p, GpuTensor x, GpuTensor y) => _lrn(x.Length, x.View, y.View, p, x.Dim(x.Shape.Length - 1));

    private static float LrnScale(ArrayView<float> x, LrnParameters p, long pixelBase, int c, int channels)
    {
        float sum = 0f;
        for (int j = c - p.Before; j <= c + p.After; j++)
            if (j >= 0 && j < channels) sum += x[pixelBase + j] * x[pixelBase + j];
        return p.K + p.Alpha / p.Size * sum;
    }

    private static void LrnKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, LrnParameters p, int channels)
    {
        int c = i % channels;
        long pixelBase = (int)i - c;
        y[i] = x[i] * XMath.Pow(LrnScale(x, p, pixelBase, c, channels), -p.Beta);
    }

    public void LrnBackward(LrnParameters p, GpuTensor x, GpuTensor dy, GpuTensor dx, bool accumulate = false) =>
        _lrnBackward(x.Length, x.View, dy.View, dx.View, p, x.Dim(x.Shape.Length - 1), accumulate ? 1 : 0);

    private static void LrnBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, LrnParameters p, int channels, int accumulate)
    {
        int c = i % channels;
        long pixelBase = (int)i - c;
        float s = LrnScale(x, p, pixelBase, c, channels);
        float grad = dy[i] * XMath.Pow(s, -p.Beta);
        // outputs o whose window holds c: c ∈ [o − before, o + after]
        float window = 0f;
        for (int o = c - p.After; o <= c + p.Before; o++)
        {
            if (o < 0 || o >= channels) continue;
            float so = LrnScale(x, p, pixelBase, o, channels);
            window += dy[pixelBase + o] * x[pixelBase + o] * XMath.Pow(so, -p.Beta - 1f);
        }
        grad -= 2f * p.Alpha * p.Beta / p.Size * x[i] * window;
        dx[i] = accumulate != 0 ? dx[i] + grad : grad;
    }

    /// <summary>Stable softmax over the last axis, one thread per row.</summary>
    public void Softmax(GpuTensor x, GpuTensor y, int classes) => _softmax(x.Length / classes, x.View, y.View, classes, 0);

    private static void SoftmaxKernel(Index1D row, ArrayView<float> x, ArrayView<float> y, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float max = float.NegativeInfinity;
        for (int i = 0; i < classes; i++) max = XMath.Max(max, x[b + i]);
        float sum = 0f;
        for (int i = 0; i < classes; i++) { float e = XMath.Exp(x[b + i] - max); y[b + i] = e; sum += e; }
        for (int i = 0; i < classes; i++) y[b + i] /= sum;
    }

    public void SoftmaxBackward(GpuTensor y, GpuTensor dy, GpuTensor dx, int classes) => _softmaxBackward(y.Length / classes, y.View, dy.View, dx.View, classes, 0);

    private static void SoftmaxBackwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float dot = 0f;
        for (int i = 0; i < classes; i++) dot += dy[b + i] * y[b + i];
        for (int i = 0; i < classes; i++) dx[b + i] = y[b + i] * (dy[b + i] - dot);
    }

    /// <summary>dx = dy where y &gt; 0 (ReLU's gradient).</summary>
    public void ReluBackward(GpuTensor y, GpuTensor dy, GpuTensor dx) => _reluBackward(y.Length, y.View, dy.View, dx.View, 0);

    private static void ReluBackwardKernel(Index1D i, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int unused) =>
        dx[i] = y[i] > 0f ? dy[i] : 0f;

    /// <summary>Channel concatenation: copies part [.., C_part] into y at channel offset; backward copies it back out.</summary>
    public void ConcatForward(IReadOnlyList<GpuTensor> parts, GpuTensor y)
    {
        int total = y.Dim(y.Shape.Length - 1), offset = 0;
        foreach (var part in parts)
        {
            int c = part.Dim(part.Shape.Length - 1);
            _copyChannels(part.Length, part.View, y.View, c, total, offset, 1);
            offset += c;
        }
    }

    public void ConcatBackward(GpuTensor dy, IReadOnlyList<GpuTensor> dParts)
    {
        int total = dy.Dim(dy.Shape.Length - 1), offset = 0;
        foreach (var part in dParts)
        {
            int c = part.Dim(part.Shape.Length - 1);
            _copyChannels(part.Length, dy.View, part.View, c, total, offset, 0);
            offset += c;
        }
    }

    /// <summary>toWide = 1: wide[px, offset + ch] = narrow[px, ch]; toWide = 0: the reverse.</summary>
    private static void CopyChannelsKernel(Index1D i, ArrayView<float> from, ArrayView<float> to, int narrow, int wide, int offset, int toWide)
    {
        int ch = i % narrow;
        long px = i / narrow;
        if (toWide != 0) to[px * wide + offset + ch] = from[i];
        else to[i] = from[px * wide + offset + ch];
    }

    /// <summary>z = α·x + β·y element-wise (add: 1, 1; scale: s, 0).</summary>
    public void Axpby(GpuTensor x, GpuTensor y, GpuTensor z, float alpha, float beta) => _axpby(z.Length, x.View, y.View, z.View, alpha, beta, 0);

    private static void AxpbyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, float alpha, float beta, int unused) =>
        z[i] = alpha * x[i] + beta * y[i];

    /// <summary>z (+)= x ⊙ y.</summary>
    public void Multiply(GpuTensor x, GpuTensor y, GpuTensor z, bool accumulate = false) => _multiply(z.Length, x.View, y.View, z.View, accumulate ? 1 : 0);

    private static void MultiplyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int accumulate) =>
        z[i] = accumulate != 0 ? z[i] + x[i] * y[i] : x[i] * y[i];

    public void Minimum(GpuTensor x, GpuTensor y, float c) => _minimum(y.Length, x.View, y.View, c, 0);

    private static void MinimumKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, float c, int unused) => y[i] = XMath.Min(x[i], c);

    /// <summary>dx (+)= dy where x ≤ c (TensorFlow's tie rule), as on the CPU.</summary>
    public void MinimumBackward(GpuTensor x, GpuTensor dy, GpuTensor dx, float c, bool accumulate) => _minimumBackward(dx.Length, x.View, dy.View, dx.View, c, accumulate ? 1 : 0);

    private static void MinimumBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, float c, int accumulate)
    {
        float g = x[i] <= c ? dy[i] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }

    /// <summary>y (+)= value everywhere.</summary>
    public void Fill(GpuTensor y, float value, bool accumulate = false) => _fill(y.Length, y.View, value, accumulate ? 1 : 0);

    private static void FillKernel(Index1D i, ArrayView<float> y, float value, int accumulate) => y[i] = accumulate != 0 ? y[i] + value : value;

    /// <summary>sums[c] (+)= Σ_rows x[row, c] (bias gradients), one thread per column.</summary>
    public void ColumnSums(GpuTensor x, GpuTensor sums, bool accumulate) => _columnSums(sums.Length, x.View, sums.View, x.Length / sums.Length, accumulate ? 1 : 0);

    private static void ColumnSumsKernel(Index1D c, ArrayView<float> x, ArrayView<float> sums, int rows, int accumulate)
    {
        int columns = (int)sums.Length;
        float s = 0f;
        for (int r = 0; r < rows; r++) s += x[(long)r * columns + c];
        sums[c] = accumulate != 0 ? sums[c] + s : s;
    }

    /// <summary>toColumn = 0: y[n] = x[n, column]; toColumn = 1: x[n, column] += y[n] (the gradient).</summary>
    public void SelectColumn(GpuTensor x, GpuTensor y, int columns, int column, bool scatter) => _selectColumn(y.Length, x.View, y.View, columns, column, scatter ? 1 : 0);

    private static void SelectColumnKernel(Index1D n, ArrayView<float> x, ArrayView<float> y, int columns, int column, int scatter)
    {
        long at = (long)(int)n * columns + column;
        if (scatter != 0) x[at] += y[n];
        else y[n] = x[at];
    }

    public void LogSoftmax(GpuTensor x, GpuTensor y, int classes) => _logSoftmax(x.Length / classes, x.View, y.View, classes, 0);

    private static void LogSoftmaxKernel(Index1D row, ArrayView<float> x, ArrayView<float> y, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float max = float.NegativeInfinity;
        for (int i = 0; i < classes; i++) max = XMath.Max(max, x[b + i]);
        float sum = 0f;
        for (int i = 0; i < classes; i++) sum += XMath.Exp(x[b + i] - max);
        float logSum = XMath.Log(sum);
        for (int i = 0; i < classes; i++) y[b + i] = x[b + i] - max - logSum;
    }

    public void LogSoftmaxBackward(GpuTensor y, GpuTensor dy, GpuTensor dx, int classes) => _logSoftmaxBackward(y.Length / classes, y.View, dy.View, dx.View, classes, 0);

    private static void LogSoftmaxBackwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float sum = 0f;
        for (int i = 0; i < classes; i++) sum += dy[b + i];
        for (int i = 0; i < classes; i++) dx[b + i] = dy[b + i] - XMath.Exp(y[b + i]) * sum;
    }

    /// <summary>y[.., c] = scale[c]·x[.., source[c]] + shift[c] (preprocessing); the small tables live in device buffers.</summary>
    public void ChannelAffine(GpuTensor x, GpuTensor y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift) =>
        _channelAffine(y.Length, x.View, y.View, source, scale, shift, (int)source.Length);

    private static void ChannelAffineKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift, int channels)
    {
        int c = i % channels;
        long pixel = (int)i - c;
        y[i] = scale[c] * x[pixel + source[c]] + shift[c];
    }

    /// <summary>dx[.., source[c]] (+)= scale[c]·dy[.., c], one thread per input element (source is a permutation or not: all matching c are summed).</summary>
    public void ChannelAffineBackward(GpuTensor dy, GpuTensor dx, ArrayView<int> source, ArrayView<float> scale, bool accumulate) =>
        _channelAffineBackward(dx.Length, dy.View, dx.View, source, scale, (int)source.Length, accumulate ? 1 : 0);

    private static void ChannelAffineBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, ArrayView<int> source, ArrayView<float> scale, int channels, int accumulate)
    {
        int ci = i % channels;
        long pixel = (int)i - ci;
        float g = 0f;
        for (int c = 0; c < channels; c++)
            if (source[c] == ci) g += scale[c] * dy[pixel + c];
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }

    /// <summary>result[0] = Σ x (a single thread strides through x: reductions here are of losses, not activations).</summary>
    public void Sum(GpuTensor x, GpuTensor result) => _sum(1, x.View, result.View, (int)x.Length);

    private static void SumKernel(Index1D i, ArrayView<float> x, ArrayView<float> result, int length)
    {
        float s = 0f;
        for (int j = 0; j < length; j++) s += x[j];
        result[0] = s;
    }

    private static void RequireShape(GpuTensor t, int[] expected, string what)
    {
        if (!t.Shape.SequenceEqual(expected))
            throw new ArgumentException($"{what}: shape {t.ShapeString} does not match the expected {Tensor.Describe(expected)}.");
    }
}
