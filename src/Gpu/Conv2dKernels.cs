using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Convolution on the device: forward as an implicit GEMM, backward-data through the flipped filter and col2im, backward-filter as a split-K GEMM.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags> _conv = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _col2Image = null!;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, FilterGradShape> _convBackwardFilter = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _flipFilter = null!;

    private void LoadConv2dKernels(Accelerator accelerator)
    {
        _conv = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags>(ConvKernel);
        _col2Image = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(Col2ImageKernel);
        _convBackwardFilter = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, FilterGradShape>(ConvBackwardFilterKernel);
        _flipFilter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(FlipFilterKernel);
    }

    internal readonly record struct ConvFlags(int Channels, int HasBias, int Relu, int Accumulate);

    /// <summary>y = x ⊛ w (+ bias, ReLU): the implicit GEMM Y[P, CO] = col(x)[P, K]·W[K, CO].</summary>
    public override void ConvForward(WindowGeometry g, DeviceTensor x, DeviceTensor w, DeviceTensor? bias, DeviceTensor y, bool relu)
    {
        int co = w.Dim(3);
        RequireShape(x, g.InputShape, "GPU conv forward (x)");
        RequireShape(w, [g.KernelH, g.KernelW, g.C, co], "GPU conv forward (w)");
        RequireShape(y, [g.N, g.OutH, g.OutW, co], "GPU conv forward (y)");
        _conv(BlockedConfig(g.OutputPixels, co), x.View, w.View, bias?.View ?? w.View, y.View, g,
            new ConvFlags(co, bias is null ? 0 : 1, relu ? 1 : 0, 0));
    }

    /// <summary>Where output pixel p's window starts: its image's offset and the top-left input position (far outside for p ≥ pixels).</summary>
    internal struct WindowOrigin
    {
        public long ImageBase;
        public int Y0, X0;
    }

    private static WindowOrigin OriginOf(WindowGeometry g, int p)
    {
        var o = new WindowOrigin { Y0 = -(1 << 28), X0 = -(1 << 28) };
        if (p < g.N * g.OutH * g.OutW)
        {
            int plane = g.OutH * g.OutW, n = p / plane, r = p - n * plane, oy = r / g.OutW, ox = r - oy * g.OutW;
            o.ImageBase = (long)n * g.H * g.W * g.C;
            o.Y0 = oy * g.StrideH - g.PadTop;
            o.X0 = ox * g.StrideW - g.PadLeft;
        }
        return o;
    }

    /// <summary>col(x)[p, (kh, kw, ci)] for the window at <paramref name="o"/>: zero in the padding.</summary>
    private static float LoadWindow(ArrayView<float> x, WindowGeometry g, WindowOrigin o, int kh, int kw, int ci)
    {
        int iy = o.Y0 + kh, ix = o.X0 + kw;
        float v = 0f;
        if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) v = x[o.ImageBase + ((long)iy * g.W + ix) * g.C + ci];
        return v;
    }

    /// <summary>The A slab values of one thread: column kk of the four window rows it loads.</summary>
    private static Row4 LoadConvSlab(ArrayView<float> x, WindowGeometry g, WindowOrigin o0, WindowOrigin o1, WindowOrigin o2, WindowOrigin o3, int kk, int k)
    {
        if (kk >= k) return default;
        int tap = kk / g.C, ci = kk - tap * g.C, kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
        return new Row4(LoadWindow(x, g, o0, kh, kw, ci), LoadWindow(x, g, o1, kh, kw, ci), LoadWindow(x, g, o2, kh, kw, ci), LoadWindow(x, g, o3, kh, kw, ci));
    }

    /// <summary>col(x)[p, kk] ⋅ W[kk, o]: this thread loads slab column t % 8 for output pixels t / 8 + 32i, whose windows are fixed for the whole loop.</summary>
    private struct ConvOperands : ITileOperands
    {
        public ArrayView<float> X, W;
        public WindowGeometry Geometry;
        public WindowOrigin O0, O1, O2, O3;
        public int Column, K, N0, Thread, Channels;

        public readonly Row4 LoadA(int k0) => LoadConvSlab(X, Geometry, O0, O1, O2, O3, k0 + Column, K);
        public readonly float LoadB(int k0, int j) => GpuKernels.LoadB(W, k0, N0, Thread, j, K, Channels, Channels, 1);
    }

    private static void ConvKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, WindowGeometry g, ConvFlags f)
    {
        int tx = Group.IdxX, ty = Group.IdxY, t = ty * GroupSide + tx;
        int m0 = Grid.IdxX * BlockM, n0 = Grid.IdxY * BlockN;
        int pixels = g.N * g.OutH * g.OutW, k = g.KernelH * g.KernelW * g.C, row = m0 + (t >> 3);
        var operands = new ConvOperands
        {
            X = x, W = w, Geometry = g, Column = t & 7, K = k, N0 = n0, Thread = t, Channels = f.Channels,
            O0 = OriginOf(g, row), O1 = OriginOf(g, row + 32), O2 = OriginOf(g, row + 64), O3 = OriginOf(g, row + 96),
        };
        var acc = MultiplyTiles(operands, 0, k, (t & 7) * AStride + (t >> 3));
        StoreMicroTile(y, bias, acc, m0, n0, tx, ty, new Epilogue(pixels, f.Channels, f.HasBias, f.Relu, f.Accumulate, 0));
    }

    /// <summary>
    /// dx from dy (already ReLU-masked). Stride 1 reuses the implicit GEMM with the flipped filter.
    /// Larger strides (GoogLeNet's conv1, whose dx is IG's input gradient) go through the register-
    /// blocked GEMM too: dCol[P, K] = dY[P, CO]·Wᵀ for a slice of whole images, then each dx element
    /// gathers the few dCol entries whose windows cover it (col2im, no atomics). A direct gather would
    /// leave only C_in = 3 outputs per pixel to parallelise a 64-channel dot product per tap.
    /// </summary>
    public override void ConvBackwardData(WindowGeometry g, DeviceTensor dy, DeviceTensor w, DeviceTensor dx, bool accumulate = false)
    {
        int ci = g.C, co = w.Dim(3);
        RequireShape(dy, [g.N, g.OutH, g.OutW, co], "GPU conv backward-data (dy)");
        RequireShape(dx, g.InputShape, "GPU conv backward-data (dx)");
        if (g.StrideH == 1 && g.StrideW == 1)
        {
            // The flipped filter goes back to the pool at once: the kernels that read it are queued ahead of its next user.
            using var flipped = new GpuTensor(GpuTensor.Of(w).Device, [g.KernelH, g.KernelW, co, ci]);
            _flipFilter(flipped.Length, w.View, flipped.View, g.KernelH, g.KernelW, ci, co);
            var gt = new WindowGeometry(g.N, g.OutH, g.OutW, co, g.KernelH, g.KernelW, 1, 1,
                g.KernelH - 1 - g.PadTop, g.KernelW - 1 - g.PadLeft, g.KernelH - 1 - g.PadBottom, g.KernelW - 1 - g.PadRight, g.H, g.W);
            _conv(BlockedConfig(gt.OutputPixels, ci), dy.View, flipped.View, flipped.View, dx.View, gt, new ConvFlags(ci, 0, 0, accumulate ? 1 : 0));
            return;
        }
        int k = g.KernelH * g.KernelW * ci, plane = g.OutH * g.OutW, image = g.H * g.W * ci;
        int imagesPerSlice = (int)Math.Clamp(ColumnBudget / ((long)plane * k), 1, g.N);
        for (int n0 = 0; n0 < g.N; n0 += imagesPerSlice)
        {
            int count = Math.Min(imagesPerSlice, g.N - n0);
            var slice = g with { N = count };
            using var columns = new GpuTensor(GpuTensor.Of(w).Device, [count * plane, k]);
            using var dySlice = dy.Slice([count * plane, co], (long)n0 * plane * co);
            using var dxSlice = dx.Slice([count * image], (long)n0 * image);
            Gemm(count * plane, k, co, dySlice, co, false, w, co, true, columns);
            _col2Image(dxSlice.Length, columns.View, dxSlice.View, slice, k, accumulate ? 1 : 0);
        }
    }

    /// <summary>The most dCol values (floats) one slice of a strided backward-data may hold (256 MiB); settable for tests.</summary>
    public long ColumnBudget { get; set; } = 64L << 20;

    private static void FlipFilterKernel(Index1D i, ArrayView<float> w, ArrayView<float> flipped, int kh, int kw, int ci, int co)
    {
        // flipped[y, x, o, c] = w[kh−1−y, kw−1−x, c, o]
        int c = i % ci, rest = i / ci, o = rest % co, tap = rest / co, y = tap / kw, x = tap - y * kw;
        flipped[i] = w[(((long)(kh - 1 - y) * kw + (kw - 1 - x)) * ci + c) * co + o];
    }

    /// <summary>dx[n, iy, ix, c] (+)= Σ dCol[(n, oy, ox), (kh, kw, c)] over the windows (oy, ox) that cover (iy, ix).</summary>
    private static void Col2ImageKernel(Index1D i, ArrayView<float> columns, ArrayView<float> dx, WindowGeometry g, int k, int accumulate)
    {
        var w = CoveringWindows.Of(g, i);
        float sum = w.Sum(g, new Col2ImageTerm { Columns = columns, K = k, Channels = g.C, KernelW = g.KernelW, C = w.C });
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>dCol[p, (kh, kw, c)]: the column-matrix entry that window p copied from this input.</summary>
    private struct Col2ImageTerm : ICoveringTerm
    {
        public ArrayView<float> Columns;
        public int K, Channels, KernelW, C;

        public readonly float At(long outputPixel, int oy, int ox, int kh, int kw) => Columns[outputPixel * K + (kh * KernelW + kw) * Channels + C];
    }

    /// <summary>The pixel range each group of the filter-gradient kernel reduces over.</summary>
    internal readonly record struct FilterGradShape(int Channels, int PixelsPerSplit);

    /// <summary>
    /// dw[KH, KW, CI, CO] (+)= col(x)ᵀ·dy: the register-blocked tile with filter taps (kh, kw, ci) as rows
    /// and output channels as columns, reducing over output pixels. A filter has few taps × channels
    /// but a batch has many pixels, so the pixels are split across the grid's third axis (enough
    /// groups to fill the device) and the splits meet in atomic adds.
    /// </summary>
    public override void ConvBackwardFilter(WindowGeometry g, DeviceTensor x, DeviceTensor dy, DeviceTensor dw, bool accumulate = false)
    {
        int co = dw.Dim(3), k = g.KernelH * g.KernelW * g.C, pixels = g.OutputPixels;
        RequireShape(x, g.InputShape, "GPU conv backward-filter (x)");
        RequireShape(dy, [g.N, g.OutH, g.OutW, co], "GPU conv backward-filter (dy)");
        RequireShape(dw, [g.KernelH, g.KernelW, g.C, co], "GPU conv backward-filter (dw)");
        if (!accumulate) Fill(dw, 0f);
        int tileRows = (k + BlockM - 1) / BlockM, tileColumns = (co + BlockN - 1) / BlockN;
        int splits = Math.Clamp((1024 + tileRows * tileColumns - 1) / (tileRows * tileColumns), 1, Math.Max(1, pixels / 256));
        int perSplit = ((pixels + splits - 1) / splits + BlockK - 1) / BlockK * BlockK;
        splits = (pixels + perSplit - 1) / perSplit;
        _convBackwardFilter(new KernelConfig(new Index3D(tileRows, tileColumns, splits), new Index3D(GroupSide, GroupSide, 1)),
            x.View, dy.View, dw.View, g, new FilterGradShape(co, perSplit));
    }

    /// <summary>Filter row kk as its window offset (kh, kw) and input channel; far outside every window for kk ≥ K.</summary>
    internal struct FilterTap
    {
        public int Kh, Kw, Ci;
    }

    private static FilterTap TapOf(WindowGeometry g, int kk, int k)
    {
        var f = new FilterTap { Kh = -(1 << 28) };
        if (kk < k)
        {
            int tap = kk / g.C;
            f.Ci = kk - tap * g.C;
            f.Kh = tap / g.KernelW;
            f.Kw = tap - f.Kh * g.KernelW;
        }
        return f;
    }

    /// <summary>col(x)[p, kk] for this thread's four filter rows at output pixel p (zero past the split's end).</summary>
    private static Row4 LoadFilterSlab(ArrayView<float> x, WindowGeometry g, FilterTap f0, FilterTap f1, FilterTap f2, FilterTap f3, int p, int end)
    {
        if (p >= end) return default;
        var o = OriginOf(g, p);
        return new Row4(LoadWindow(x, g, o, f0.Kh, f0.Kw, f0.Ci), LoadWindow(x, g, o, f1.Kh, f1.Kw, f1.Ci),
            LoadWindow(x, g, o, f2.Kh, f2.Kw, f2.Ci), LoadWindow(x, g, o, f3.Kh, f3.Kw, f3.Ci));
    }

    /// <summary>col(x)ᵀ[kk, p] ⋅ dy[p, o] over a pixel range: this thread loads pixel t / 32 of each slab for filter rows t % 32 + 32i (a warp reads 32 neighbouring channels).</summary>
    private struct FilterGradOperands : ITileOperands
    {
        public ArrayView<float> X, Dy;
        public WindowGeometry Geometry;
        public FilterTap F0, F1, F2, F3;
        public int Pixel, End, N0, Thread, Channels;

        public readonly Row4 LoadA(int p0) => LoadFilterSlab(X, Geometry, F0, F1, F2, F3, p0 + Pixel, End);
        public readonly float LoadB(int p0, int j) => GpuKernels.LoadB(Dy, p0, N0, Thread, j, End, Channels, Channels, 1);
    }

    private static void ConvBackwardFilterKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, WindowGeometry g, FilterGradShape s)
    {
        int tx = Group.IdxX, ty = Group.IdxY, t = ty * GroupSide + tx;
        int m0 = Grid.IdxX * BlockM, n0 = Grid.IdxY * BlockN;
        int k = g.KernelH * g.KernelW * g.C, pixels = g.N * g.OutH * g.OutW, row = m0 + (t & 31);
        int start = Grid.IdxZ * s.PixelsPerSplit, end = XMath.Min(start + s.PixelsPerSplit, pixels);
        var operands = new FilterGradOperands
        {
            X = x, Dy = dy, Geometry = g, Pixel = t >> 5, End = end, N0 = n0, Thread = t, Channels = s.Channels,
            F0 = TapOf(g, row, k), F1 = TapOf(g, row + 32, k), F2 = TapOf(g, row + 64, k), F3 = TapOf(g, row + 96, k),
        };
        var acc = MultiplyTiles(operands, start, end, (t >> 5) * AStride + (t & 31));
        StoreMicroTile(dw, dw, acc, m0, n0, tx, ty, new Epilogue(k, s.Channels, 0, 0, 0, 1));
    }
}
