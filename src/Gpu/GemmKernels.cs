using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>The tiled GEMM shared by every GEMM-shaped kernel: register-blocked 128×64 blocks, shared-memory slabs, the epilogue.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm = null!;

    private void LoadGemmKernels(Accelerator accelerator)
    {
        _gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernel);
    }

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
    internal readonly record struct GemmShape(int M, int N, int K, int AI, int AK, int BK, int BJ, int Accumulate);

    /// <summary>C[M×N] (+)= op(A)·op(B), row-major, as <see cref="Gemm.Multiply(int, int, int, ReadOnlySpan{float}, int, bool, ReadOnlySpan{float}, int, bool, Span{float}, int, bool, GemmKernel?)"/>.</summary>
    public void Gemm(int m, int n, int k, DeviceTensor a, int lda, bool transA, DeviceTensor b, int ldb, bool transB, DeviceTensor c, bool accumulate = false)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GPU GEMM {m}×{n}×{k}: operands of {a.Length}, {b.Length} and {c.Length} values are too small.");
        var shape = new GemmShape(m, n, k, transA ? 1 : lda, transA ? lda : 1, transB ? 1 : ldb, transB ? ldb : 1, accumulate ? 1 : 0);
        _gemm(BlockedConfig(m, n), a.View, b.View, c.View, shape);
    }

    private static KernelConfig BlockedConfig(int m, int n) =>
        new(new Index2D((m + BlockM - 1) / BlockM, (n + BlockN - 1) / BlockN), new Index2D(GroupSide, GroupSide));

    /// <summary>Four floats: a micro-tile row (columns tx + 16j) or four staged loads.</summary>
    internal struct Row4
    {
        public float V0, V1, V2, V3;
        public Row4(float v0, float v1, float v2, float v3) { V0 = v0; V1 = v1; V2 = v2; V3 = v3; }
    }

    /// <summary>One thread's 8×4 accumulators (rows ty + 16i).</summary>
    internal struct MicroTile
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
    internal readonly record struct Epilogue(int Rows, int Columns, int HasBias, int Relu, int Accumulate, int Atomic);

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
}
