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

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags> _conv;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int> _col2Image;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, FilterGradShape> _convBackwardFilter;
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
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _sum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _interpolate;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int> _accumulateWeightedRows;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _rowSums;

    internal GpuKernels(Accelerator accelerator)
    {
        _gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernel);
        _conv = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, ConvFlags>(ConvKernel);
        _col2Image = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowGeometry, int, int>(Col2ImageKernel);
        _convBackwardFilter = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowGeometry, FilterGradShape>(ConvBackwardFilterKernel);
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
        _sum = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(SumKernel);
        _interpolate = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(InterpolateKernel);
        _accumulateWeightedRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int>(AccumulateWeightedRowsKernel);
        _rowSums = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(RowSumsKernel);
    }

    // ---------------------------------------------------------------- GEMM

    // Register-blocked tiles. A group of 16×16 threads computes a 128×64 block of the output; each
    // thread keeps an 8×4 micro-tile in registers, at rows ty + 16i and columns tx + 16j so that
    // neighbouring threads read neighbouring shared-memory words and write neighbouring outputs. K
    // advances in slabs of 8; the next slab is fetched into registers while this one is multiplied,
    // so global-memory latency hides behind 256 FMAs per thread.
    private const int BlockM = 128, BlockN = 64, BlockK = 8, GroupSide = 16;

    // The A slab is stored transposed ([k][m]); padding its rows by 4 puts the 32 stores of a warp
    // (8 k values × 4 rows) in 32 distinct banks.
    private const int AStride = BlockM + 4;

    /// <summary>Strides let one kernel serve all transposes: A[i, p] = a[i·AI + p·AK], B[p, j] = b[p·BK + j·BJ].</summary>
    public readonly record struct GemmShape(int M, int N, int K, int AI, int AK, int BK, int BJ, int Accumulate);

    /// <summary>C[M×N] (+)= op(A)·op(B), row-major, as <see cref="Gemm.Multiply(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, bool, GemmKernel?)"/>.</summary>
    public void Gemm(int m, int n, int k, GpuTensor a, int lda, bool transA, GpuTensor b, int ldb, bool transB, GpuTensor c, bool accumulate = false)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GPU GEMM {m}×{n}×{k}: operands of {a.Length}, {b.Length} and {c.Length} values are too small.");
        var shape = new GemmShape(m, n, k, transA ? 1 : lda, transA ? lda : 1, transB ? 1 : ldb, transB ? ldb : 1, accumulate ? 1 : 0);
        _gemm(BlockedConfig(m, n), a.View, b.View, c.View, shape);
    }

    private static KernelConfig BlockedConfig(int m, int n) =>
        new(new Index2D((m + BlockM - 1) / BlockM, (n + BlockN - 1) / BlockN), new Index2D(GroupSide, GroupSide));

    /// <summary>Four floats: a micro-tile row (columns tx + 16j) or four staged loads.</summary>
    public struct Row4
    {
        public float V0, V1, V2, V3;
        public Row4(float v0, float v1, float v2, float v3) { V0 = v0; V1 = v1; V2 = v2; V3 = v3; }
    }

    /// <summary>One thread's 8×4 accumulators (rows ty + 16i).</summary>
    public struct MicroTile
    {
        public Row4 R0, R1, R2, R3, R4, R5, R6, R7;
    }

    private static Row4 Fma(Row4 c, float a, Row4 b)
    {
        c.V0 += a * b.V0; c.V1 += a * b.V1; c.V2 += a * b.V2; c.V3 += a * b.V3;
        return c;
    }

    /// <summary>
    /// acc += aSlab[k][ty + 16i] · bSlab[k][tx + 16j] over the slab's 8 k values. The views start at this
    /// thread's row and column, and the 8 steps are written out, so every shared-memory read has a
    /// constant offset (ILGPU does not unroll this loop, and computes each variable index in 64 bits).
    /// </summary>
    private static MicroTile MultiplySlab(MicroTile acc, ArrayView<float> aMine, ArrayView<float> bMine)
    {
        acc = SlabStep(acc, aMine, bMine, 0);
        acc = SlabStep(acc, aMine, bMine, 1);
        acc = SlabStep(acc, aMine, bMine, 2);
        acc = SlabStep(acc, aMine, bMine, 3);
        acc = SlabStep(acc, aMine, bMine, 4);
        acc = SlabStep(acc, aMine, bMine, 5);
        acc = SlabStep(acc, aMine, bMine, 6);
        return SlabStep(acc, aMine, bMine, 7);
    }

    private static MicroTile SlabStep(MicroTile acc, ArrayView<float> aMine, ArrayView<float> bMine, int k)
    {
        int ak = k * AStride, bk = k * BlockN;
        var b = new Row4(bMine[bk], bMine[bk + 16], bMine[bk + 32], bMine[bk + 48]);
        acc.R0 = Fma(acc.R0, aMine[ak], b);
        acc.R1 = Fma(acc.R1, aMine[ak + 16], b);
        acc.R2 = Fma(acc.R2, aMine[ak + 32], b);
        acc.R3 = Fma(acc.R3, aMine[ak + 48], b);
        acc.R4 = Fma(acc.R4, aMine[ak + 64], b);
        acc.R5 = Fma(acc.R5, aMine[ak + 80], b);
        acc.R6 = Fma(acc.R6, aMine[ak + 96], b);
        acc.R7 = Fma(acc.R7, aMine[ak + 112], b);
        return acc;
    }

    /// <summary>Slab row t/64 + 4j, column t % 64 of B[K×N] (b[p·BK + j·BJ]); zero outside.</summary>
    private static float LoadB(ArrayView<float> b, int k0, int n0, int t, int j, int k, int n, int bk, int bj)
    {
        int p = k0 + (t >> 6) + 4 * j, column = n0 + (t & 63);
        float v = 0f;
        if (p < k && column < n) v = b[(long)p * bk + (long)column * bj];
        return v;
    }

    private static void StoreB(ArrayView<float> bSlab, int t, float b0, float b1)
    {
        bSlab[(t >> 6) * BlockN + (t & 63)] = b0;
        bSlab[((t >> 6) + 4) * BlockN + (t & 63)] = b1;
    }

    /// <summary>Epilogue flags and the output's row stride.</summary>
    public readonly record struct Epilogue(int Rows, int Columns, int HasBias, int Relu, int Accumulate, int Atomic);

    private static void StoreMicroTile(ArrayView<float> c, ArrayView<float> bias, MicroTile acc, int m0, int n0, int tx, int ty, Epilogue e)
    {
        StoreRow(c, bias, acc.R0, m0 + ty, n0 + tx, e);
        StoreRow(c, bias, acc.R1, m0 + ty + 16, n0 + tx, e);
        StoreRow(c, bias, acc.R2, m0 + ty + 32, n0 + tx, e);
        StoreRow(c, bias, acc.R3, m0 + ty + 48, n0 + tx, e);
        StoreRow(c, bias, acc.R4, m0 + ty + 64, n0 + tx, e);
        StoreRow(c, bias, acc.R5, m0 + ty + 80, n0 + tx, e);
        StoreRow(c, bias, acc.R6, m0 + ty + 96, n0 + tx, e);
        StoreRow(c, bias, acc.R7, m0 + ty + 112, n0 + tx, e);
    }

    private static void StoreRow(ArrayView<float> c, ArrayView<float> bias, Row4 r, int row, int column, Epilogue e)
    {
        if (row >= e.Rows) return;
        long at = (long)row * e.Columns + column;
        StoreOne(c, bias, r.V0, at, column, e);
        StoreOne(c, bias, r.V1, at + 16, column + 16, e);
        StoreOne(c, bias, r.V2, at + 32, column + 32, e);
        StoreOne(c, bias, r.V3, at + 48, column + 48, e);
    }

    private static void StoreOne(ArrayView<float> c, ArrayView<float> bias, float v, long at, int column, Epilogue e)
    {
        if (column >= e.Columns) return;
        if (e.Atomic != 0)
        {
            Atomic.Add(ref c[at], v);
            return;
        }
        if (e.Accumulate != 0) v += c[at];
        if (e.HasBias != 0) v += bias[column];
        if (e.Relu != 0 && v < 0f) v = 0f;
        c[at] = v;
    }

    private static float LoadMatrixA(ArrayView<float> a, GemmShape s, int row, int kk)
    {
        float v = 0f;
        if (row < s.M && kk < s.K) v = a[(long)row * s.AI + (long)kk * s.AK];
        return v;
    }

    private static Row4 LoadMatrixSlab(ArrayView<float> a, GemmShape s, int row, int kk) =>
        new(LoadMatrixA(a, s, row, kk), LoadMatrixA(a, s, row + 32, kk), LoadMatrixA(a, s, row + 64, kk), LoadMatrixA(a, s, row + 96, kk));

    private static void StoreA(ArrayView<float> aSlab, int at, Row4 v)
    {
        aSlab[at] = v.V0; aSlab[at + 32] = v.V1; aSlab[at + 64] = v.V2; aSlab[at + 96] = v.V3;
    }

    /// <summary>
    /// Where a tiled kernel's operands come from. The main loop (<see cref="MultiplyTiles{T}"/>) is the
    /// same for GEMM, convolution and the filter gradient; only these loads differ. Each thread stages
    /// four A values (rows 32 apart in the slab) and two B values per slab of 8.
    /// </summary>
    private interface ITileOperands
    {
        /// <summary>This thread's four A-slab values for the slab starting at reduction index k0.</summary>
        Row4 LoadA(int k0);

        /// <summary>B-slab row t/64 + 4j, column t % 64, for the slab starting at k0.</summary>
        float LoadB(int k0, int j);
    }

    /// <summary>
    /// Σ over the reduction range [begin, end) of this group's 128×64 block, as this thread's 8×4
    /// micro-tile. The A slab is stored at <paramref name="aStoreAt"/> + 32i (its layout is the
    /// operands' choice, for coalesced loads); the next slab is loaded while this one is multiplied.
    /// </summary>
    private static MicroTile MultiplyTiles<T>(T operands, int begin, int end, int aStoreAt) where T : struct, ITileOperands
    {
        var aSlab = SharedMemory.Allocate1D<float>(BlockK * AStride);
        var bSlab = SharedMemory.Allocate1D<float>(BlockK * BlockN);
        int tx = Group.IdxX, ty = Group.IdxY, t = ty * GroupSide + tx;
        var aMine = aSlab.SubView(ty, BlockK * AStride - ty);
        var bMine = bSlab.SubView(tx, BlockK * BlockN - tx);
        var acc = default(MicroTile);
        var pa = operands.LoadA(begin);
        float pb0 = operands.LoadB(begin, 0), pb1 = operands.LoadB(begin, 1);
        for (int k0 = begin; k0 < end; k0 += BlockK)
        {
            StoreA(aSlab, aStoreAt, pa);
            StoreB(bSlab, t, pb0, pb1);
            Group.Barrier();
            int next = k0 + BlockK;
            if (next < end)
            {
                pa = operands.LoadA(next);
                pb0 = operands.LoadB(next, 0);
                pb1 = operands.LoadB(next, 1);
            }
            acc = MultiplySlab(acc, aMine, bMine);
            Group.Barrier();
        }
        return acc;
    }

    /// <summary>A[i, p] = a[i·AI + p·AK]: this thread loads slab column t % 8 of rows t / 8 + 32i.</summary>
    private struct MatrixOperands : ITileOperands
    {
        public ArrayView<float> A, B;
        public GemmShape Shape;
        public int Row, Column, N0, Thread;

        public readonly Row4 LoadA(int k0) => LoadMatrixSlab(A, Shape, Row, k0 + Column);
        public readonly float LoadB(int k0, int j) => GpuKernels.LoadB(B, k0, N0, Thread, j, Shape.K, Shape.N, Shape.BK, Shape.BJ);
    }

    private static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        int tx = Group.IdxX, ty = Group.IdxY, t = ty * GroupSide + tx;
        int m0 = Grid.IdxX * BlockM, n0 = Grid.IdxY * BlockN;
        var operands = new MatrixOperands { A = a, B = b, Shape = s, Row = m0 + (t >> 3), Column = t & 7, N0 = n0, Thread = t };
        var acc = MultiplyTiles(operands, 0, s.K, (t & 7) * AStride + (t >> 3));
        StoreMicroTile(c, c, acc, m0, n0, tx, ty, new Epilogue(s.M, s.N, 0, 0, s.Accumulate, 0));
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
        _conv(BlockedConfig(g.OutputPixels, co), x.View, w.View, bias?.View ?? w.View, y.View, g,
            new ConvFlags(co, bias is null ? 0 : 1, relu ? 1 : 0, 0));
    }

    /// <summary>Where output pixel p's window starts: its image's offset and the top-left input position (far outside for p ≥ pixels).</summary>
    public struct WindowOrigin
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
    public void ConvBackwardData(WindowGeometry g, GpuTensor dy, GpuTensor w, GpuTensor dx, bool accumulate = false)
    {
        int ci = g.C, co = w.Dim(3);
        RequireShape(dy, [g.N, g.OutH, g.OutW, co], "GPU conv backward-data (dy)");
        RequireShape(dx, g.InputShape, "GPU conv backward-data (dx)");
        if (g.StrideH == 1 && g.StrideW == 1)
        {
            // The flipped filter goes back to the pool at once: the kernels that read it are queued ahead of its next user.
            using var flipped = new GpuTensor(w.Device, [g.KernelH, g.KernelW, co, ci]);
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
            using var columns = new GpuTensor(w.Device, [count * plane, k]);
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
        float sum = 0f;
        for (int oy = w.Oy0; oy <= w.Oy1; oy++)
        {
            int kh = w.Iy + g.PadTop - oy * g.StrideH;
            for (int ox = w.Ox0; ox <= w.Ox1; ox++)
            {
                int kw = w.Ix + g.PadLeft - ox * g.StrideW;
                sum += columns[(((long)w.N * g.OutH + oy) * g.OutW + ox) * k + (kh * g.KernelW + kw) * g.C + w.C];
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>The pixel range each group of the filter-gradient kernel reduces over.</summary>
    public readonly record struct FilterGradShape(int Channels, int PixelsPerSplit);

    /// <summary>
    /// dw[KH, KW, CI, CO] (+)= col(x)ᵀ·dy: the register-blocked tile with filter taps (kh, kw, ci) as rows
    /// and output channels as columns, reducing over output pixels. A filter has few taps × channels
    /// but a batch has many pixels, so the pixels are split across the grid's third axis (enough
    /// groups to fill the device) and the splits meet in atomic adds.
    /// </summary>
    public void ConvBackwardFilter(WindowGeometry g, GpuTensor x, GpuTensor dy, GpuTensor dw, bool accumulate = false)
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
    public struct FilterTap
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
        var w = CoveringWindows.Of(g, i);
        float sum = 0f;
        for (int oy = w.Oy0; oy <= w.Oy1; oy++)
        {
            int kh = w.Iy + g.PadTop - oy * g.StrideH;
            for (int ox = w.Ox0; ox <= w.Ox1; ox++)
            {
                int kw = w.Ix + g.PadLeft - ox * g.StrideW;
                long o = (((long)w.N * g.OutH + oy) * g.OutW + ox) * g.C + w.C;
                if (taps[o] == kh * g.KernelW + kw) sum += dy[o];
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>
    /// Input element i of an NHWC tensor (n, iy, ix, c) and the output windows [Oy0, Oy1] × [Ox0, Ox1]
    /// that cover it: the gather-form backward kernels (pools, col2im) visit only those few, with no atomics.
    /// </summary>
    public struct CoveringWindows
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

        /// <summary>The first output whose window [o·stride, o·stride + kernel) covers padded position p.</summary>
        private static int FirstCovering(int p, int kernel, int stride)
        {
            int numerator = p - kernel + 1;
            return numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
        }
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
        var w = CoveringWindows.Of(g, i);
        float sum = 0f;
        for (int oy = w.Oy0; oy <= w.Oy1; oy++)
            for (int ox = w.Ox0; ox <= w.Ox1; ox++)
                sum += dy[(((long)w.N * g.OutH + oy) * g.OutW + ox) * g.C + w.C] * AvgScale(g, oy, ox, validOnly);
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

    /// <summary>
    /// sums[c] (+)= Σ_rows x[row, c] (bias gradients). A conv's bias sees millions of rows and few
    /// columns, so the rows are split into bands (about 64 K threads in all, neighbouring threads on
    /// neighbouring columns) whose partial sums meet in atomic adds.
    /// </summary>
    public void ColumnSums(GpuTensor x, GpuTensor sums, bool accumulate)
    {
        int columns = sums.Length, rows = x.Length / columns;
        if (!accumulate) Fill(sums, 0f);
        int bands = Math.Clamp(65536 / columns, 1, Math.Max(1, rows));
        int rowsPerBand = (rows + bands - 1) / bands;
        bands = (rows + rowsPerBand - 1) / rowsPerBand;
        if (bands == 0) return;
        _columnSums(bands * columns, x.View, sums.View, rows, rowsPerBand);
    }

    private static void ColumnSumsKernel(Index1D i, ArrayView<float> x, ArrayView<float> sums, int rows, int rowsPerBand)
    {
        int columns = (int)sums.Length, c = i % columns, band = i / columns;
        int end = XMath.Min(rows, (band + 1) * rowsPerBand);
        float s = 0f;
        for (int r = band * rowsPerBand; r < end; r++) s += x[(long)r * columns + c];
        Atomic.Add(ref sums[c], s);
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

    private const int SumGroup = 256;

    /// <summary>result[0] = Σ x: each group sums a grid-strided share, reduces it in shared memory, and adds its total atomically.</summary>
    public void Sum(GpuTensor x, GpuTensor result)
    {
        Fill(result, 0f);
        int groups = Math.Clamp((x.Length + SumGroup * 8 - 1) / (SumGroup * 8), 1, 1024);
        _sum(new KernelConfig(groups, SumGroup), x.View, result.View, x.Length);
    }

    private static void SumKernel(ArrayView<float> x, ArrayView<float> result, int length)
    {
        float s = 0f;
        for (int i = Grid.IdxX * SumGroup + Group.IdxX; i < length; i += Grid.DimX * SumGroup) s += x[i];
        float total = GroupSum(s);
        if (Group.IdxX == 0) Atomic.Add(ref result[0], total);
    }

    /// <summary>The sum of <paramref name="value"/> over the group's threads (a shared-memory tree), returned to every thread.</summary>
    private static float GroupSum(float value)
    {
        var partial = SharedMemory.Allocate1D<float>(SumGroup);
        int t = Group.IdxX;
        partial[t] = value;
        Group.Barrier();
        for (int half = SumGroup / 2; half > 0; half /= 2)
        {
            if (t < half) partial[t] += partial[t + half];
            Group.Barrier();
        }
        return partial[0];
    }

    // ---------------------------------------------------------------- batched rows (IG's path, on the device)

    /// <summary>
    /// path[r] = x′ + α_r·(x − x′) for r &lt; alphas.Length; α = 0 and α = 1 give x′ and x exactly, so F
    /// at those path images is F(x′) and F(x) (float rounding could otherwise move the endpoints).
    /// </summary>
    public void Interpolate(GpuTensor baseline, GpuTensor image, ArrayView<float> alphas, GpuTensor path)
    {
        if (baseline.Length != image.Length || path.Length != alphas.Length * image.Length)
            throw new ArgumentException($"GPU interpolate: baseline {baseline.ShapeString}, image {image.ShapeString} and path {path.ShapeString} for {alphas.Length} alphas do not fit.");
        _interpolate(path.Length, baseline.View, image.View, alphas, path.View, image.Length);
    }

    private static void InterpolateKernel(Index1D i, ArrayView<float> baseline, ArrayView<float> image, ArrayView<float> alphas, ArrayView<float> path, int size)
    {
        int r = i / size, j = i - r * size;
        float alpha = alphas[r], v;
        if (alpha == 0f) v = baseline[j];
        else if (alpha == 1f) v = image[j];
        else v = baseline[j] + alpha * (image[j] - baseline[j]);
        path[i] = v;
    }

    /// <summary>sum[j] += Σ_r weights[r]·rows[r, j] in float64 (IG's Riemann/trapezoid sum over one chunk of the path).</summary>
    public void AccumulateWeightedRows(GpuTensor rows, ArrayView<double> weights, ArrayView<double> sum)
    {
        if (rows.Length != weights.Length * sum.Length)
            throw new ArgumentException($"GPU weighted rows: {rows.ShapeString} is not {weights.Length} rows of {sum.Length}.");
        _accumulateWeightedRows((int)sum.Length, rows.View, weights, sum, (int)weights.Length);
    }

    private static void AccumulateWeightedRowsKernel(Index1D j, ArrayView<float> rows, ArrayView<double> weights, ArrayView<double> sum, int count)
    {
        long size = sum.Length;
        double s = sum[j];
        for (int r = 0; r < count; r++) s += weights[r] * rows[r * size + j];
        sum[j] = s;
    }

    /// <summary>sums[r] = Σ_j rows[r, j], one group per row.</summary>
    public void RowSums(GpuTensor rows, ArrayView<float> sums)
    {
        if (rows.Length % sums.Length != 0)
            throw new ArgumentException($"GPU row sums: {rows.ShapeString} is not {sums.Length} rows.");
        _rowSums(new KernelConfig((int)sums.Length, SumGroup), rows.View, sums, rows.Length / (int)sums.Length);
    }

    private static void RowSumsKernel(ArrayView<float> rows, ArrayView<float> sums, int size)
    {
        long start = (long)Grid.IdxX * size;
        float s = 0f;
        for (int j = Group.IdxX; j < size; j += SumGroup) s += rows[start + j];
        float total = GroupSum(s);
        if (Group.IdxX == 0) sums[Grid.IdxX] = total;
    }

    private static void RequireShape(GpuTensor t, int[] expected, string what)
    {
        if (!t.Shape.SequenceEqual(expected))
            throw new ArgumentException($"{what}: shape {t.ShapeString} does not match the expected {Tensor.Describe(expected)}.");
    }
}
