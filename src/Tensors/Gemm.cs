using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>Which micro-kernel a GEMM runs. <see cref="Gemm.Best"/> is chosen from the CPU at start-up.</summary>
public enum GemmKernel
{
    Scalar,
    Avx2,
    Avx512,
}

/// <summary>
/// Fills one packed micro-panel of the left operand A [M×K]: dest[k·mr + i] = A[i0 + i, k0 + k] for
/// i &lt; rows, zero for rows ≤ i &lt; mr. Implementations let convolution feed im2col values straight
/// into the GEMM without materialising the column matrix.
/// </summary>
public unsafe interface IPackA
{
    void Pack(int i0, int rows, int k0, int kc, int mr, float* dest);
}

/// <summary>Fills one packed micro-panel of B [K×N]: dest[k·nr + j] = B[k0 + k, j0 + j], zero past <paramref name="cols"/>.</summary>
public unsafe interface IPackB
{
    void Pack(int k0, int kc, int j0, int cols, int nr, float* dest);
}

/// <summary>Row-major A with leading dimension lda, optionally transposed (A stored as [K×M]).</summary>
public readonly unsafe struct DenseA(float* data, int ld, bool transposed) : IPackA
{
    public void Pack(int i0, int rows, int k0, int kc, int mr, float* dest)
    {
        if (!transposed && mr == 8 && Avx.IsSupported)
        {
            float** rowPointers = stackalloc float*[8];
            for (int i = 0; i < 8; i++) rowPointers[i] = i < rows ? data + (long)(i0 + i) * ld + k0 : Gemm.ZeroRow(kc);
            Gemm.PackRows8(rowPointers, kc, dest);
            return;
        }
        if (!transposed)
        {
            for (int i = 0; i < rows; i++)
            {
                float* src = data + (long)(i0 + i) * ld + k0;
                for (int k = 0; k < kc; k++) dest[k * mr + i] = src[k];
            }
        }
        else
        {
            for (int k = 0; k < kc; k++)
            {
                float* src = data + (long)(k0 + k) * ld + i0;
                float* d = dest + k * mr;
                for (int i = 0; i < rows; i++) d[i] = src[i];
            }
        }
        if (rows < mr)
            for (int k = 0; k < kc; k++)
                for (int i = rows; i < mr; i++) dest[k * mr + i] = 0f;
    }
}

/// <summary>Row-major B with leading dimension ldb, optionally transposed (B stored as [N×K]).</summary>
public readonly unsafe struct DenseB(float* data, int ld, bool transposed) : IPackB
{
    public void Pack(int k0, int kc, int j0, int cols, int nr, float* dest)
    {
        if (!transposed)
        {
            for (int k = 0; k < kc; k++)
            {
                var src = new ReadOnlySpan<float>(data + (long)(k0 + k) * ld + j0, cols);
                var d = new Span<float>(dest + k * nr, nr);
                src.CopyTo(d);
                d[cols..].Clear();
            }
        }
        else
        {
            for (int j = 0; j < cols; j++)
            {
                float* src = data + (long)(j0 + j) * ld + k0;
                for (int k = 0; k < kc; k++) dest[k * nr + j] = src[k];
            }
            if (cols < nr)
                for (int k = 0; k < kc; k++) new Span<float>(dest + k * nr + cols, nr - cols).Clear();
        }
    }
}

/// <summary>
/// A B operand packed once into the GEMM's panel layout for one micro-kernel geometry, for reuse by
/// every multiplication with the same matrix (frozen filters: packing 7M weights per forward costs
/// more than a batch-1 layer's arithmetic).
/// </summary>
public sealed unsafe class PackedB
{
    internal float[] Buffer { get; }
    public int K { get; }
    public int N { get; }
    public GemmKernel Kernel { get; }

    private PackedB(float[] buffer, int k, int n, GemmKernel kernel)
    {
        Buffer = buffer;
        K = k;
        N = n;
        Kernel = kernel;
    }

    public static PackedB Pack<TB>(int k, int n, TB b, GemmKernel kernel) where TB : struct, IPackB
    {
        var buffer = GC.AllocateUninitializedArray<float>(Math.Max(1, Gemm.PackedBLength(k, n, kernel)), pinned: true);
        fixed (float* p = buffer) Gemm.PackAllB(k, n, b, kernel, p);
        return new PackedB(buffer, k, n, kernel);
    }
}

/// <summary>
/// Single-precision GEMM, C[M×N] (+)= A[M×K]·B[K×N], row-major, in the BLIS style: B is packed once
/// into KC×NR panels, each worker packs its MC×KC block of A into MR-row panels, and a register-blocked
/// micro-kernel computes MR×NR tiles of C (8×32 on AVX-512: 16 zmm accumulators keep both FMA pipes
/// busy through the 4-cycle latency; 6×16 on AVX2).
/// </summary>
public static unsafe class Gemm
{
    public static GemmKernel Best { get; } =
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? GemmKernel.Avx512 :
        Avx2.IsSupported && Fma.IsSupported ? GemmKernel.Avx2 : GemmKernel.Scalar;

    public static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Scalar => true,
        GemmKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        GemmKernel.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>Worker threads for GEMM and the other parallel kernels (default: all cores).</summary>
    public static int Threads { get; set; } = Environment.ProcessorCount;

    private const int KC = 256;
    private const int MC = 96; // multiple of both 8 and 6

    private static (int Mr, int Nr) Geometry(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => (8, 32),
        _ => (6, 16),
    };

    [ThreadStatic] private static float[]? t_packA;

    /// <summary>C = A·B (+ C when <paramref name="accumulate"/>), on dense row-major arrays.</summary>
    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate = false, GemmKernel? kernel = null)
    {
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Multiply(m, n, k, new DenseA(pa, lda, transA), new DenseB(pb, ldb, transB), pc, ldc, accumulate, kernel ?? Best);
    }

    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows < 0 || cols < 0 || ld < cols)
            throw new ArgumentException($"GEMM operand {name}: {rows}×{cols} with leading dimension {ld} is not a valid matrix.");
        long needed = rows == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"GEMM operand {name}: a {rows}×{cols} matrix with leading dimension {ld} needs {needed} values, the buffer holds {length}.");
    }

    /// <summary>The general form: any A and B packers, C as a raw row-major pointer.</summary>
    public static void Multiply<TA, TB>(int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate, GemmKernel kernel,
        float* bias = null, bool relu = false)
        where TA : struct, IPackA where TB : struct, IPackB
    {
        if (m == 0 || n == 0) return;
        if (!IsSupported(kernel)) throw new PlatformNotSupportedException($"GEMM kernel {kernel} is not supported on this CPU.");
        if (k == 0) { Epilogue0(m, n, c, ldc, accumulate, bias, relu); return; }
        var packedB = BufferPool.Shared.Rent(PackedBLength(k, n, kernel));
        try
        {
            fixed (float* pb = &packedB.Buffer[packedB.Offset])
            {
                PackAllB(k, n, b, kernel, pb);
                Run(m, n, k, a, pb, c, ldc, accumulate, kernel, bias, relu);
            }
        }
        finally
        {
            BufferPool.Shared.Return(packedB.Buffer);
        }
    }

    /// <summary>C (+)= A·B (+ bias per column, then ReLU if asked) with B already packed (<see cref="PackedB"/>).</summary>
    public static void Multiply<TA>(int m, int n, int k, TA a, PackedB b, float* c, int ldc, bool accumulate, float* bias = null, bool relu = false)
        where TA : struct, IPackA
    {
        if (b.K != k || b.N != n)
            throw new ArgumentException($"Packed B is {b.K}×{b.N}; this product needs {k}×{n}.");
        if (m == 0 || n == 0) return;
        if (k == 0) { Epilogue0(m, n, c, ldc, accumulate, bias, relu); return; }
        fixed (float* pb = b.Buffer) Run(m, n, k, a, pb, c, ldc, accumulate, b.Kernel, bias, relu);
    }

    /// <summary>K = 0: C = (C or 0) + bias, then ReLU.</summary>
    private static void Epilogue0(int m, int n, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float v = (accumulate ? c[(long)i * ldc + j] : 0f) + (bias is null ? 0f : bias[j]);
                c[(long)i * ldc + j] = relu ? MathF.Max(v, 0f) : v;
            }
    }

    internal static int PackedBLength(int k, int n, GemmKernel kernel)
    {
        var (_, nr) = Geometry(kernel);
        return (n + nr - 1) / nr * nr * k;
    }

    /// <summary>Packs all of B: layout [kBlock][panel][kc][nr]; a k-block of panel p starts at k0·panels·nr + p·kc·nr.</summary>
    internal static void PackAllB<TB>(int k, int n, TB b, GemmKernel kernel, float* pb) where TB : struct, IPackB
    {
        var (_, nr) = Geometry(kernel);
        int panels = (n + nr - 1) / nr;
        int totalPanels = (k + KC - 1) / KC * panels;
        if ((long)k * n > 1 << 18 && Threads > 1)
            Parallel.For(0, totalPanels, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => PackBPanel(b, t / panels, t % panels, k, n, nr, panels, pb));
        else
            for (int t = 0; t < totalPanels; t++) PackBPanel(b, t / panels, t % panels, k, n, nr, panels, pb);
    }

    /// <summary>Splits C into MC-row tiles (and, when there are too few for the threads, groups of panels) and runs them.</summary>
    private static void Run<TA>(int m, int n, int k, TA a, float* pb, float* c, int ldc, bool accumulate, GemmKernel kernel, float* bias, bool relu)
        where TA : struct, IPackA
    {
        var (mr, nr) = Geometry(kernel);
        int panels = (n + nr - 1) / nr;
        int mTiles = (m + MC - 1) / MC;
        int nGroups = Math.Clamp((2 * Threads + mTiles - 1) / mTiles, 1, panels);
        int panelsPerGroup = (panels + nGroups - 1) / nGroups;
        nGroups = (panels + panelsPerGroup - 1) / panelsPerGroup;
        int items = mTiles * nGroups;
        if (items == 1 || Threads == 1)
        {
            for (int item = 0; item < items; item++)
                RunTile(a, item / nGroups, item % nGroups, m, n, k, panelsPerGroup, panels, mr, nr, pb, c, ldc, accumulate, kernel, bias, relu);
        }
        else
        {
            Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = Threads }, item =>
                RunTile(a, item / nGroups, item % nGroups, m, n, k, panelsPerGroup, panels, mr, nr, pb, c, ldc, accumulate, kernel, bias, relu));
        }
    }

    private static void PackBPanel<TB>(TB b, int kb, int panel, int k, int n, int nr, int panels, float* packed) where TB : struct, IPackB
    {
        int k0 = kb * KC;
        int kc = Math.Min(KC, k - k0);
        int j0 = panel * nr;
        float* dest = packed + (long)k0 * panels * nr + (long)panel * kc * nr;
        b.Pack(k0, kc, j0, Math.Min(nr, n - j0), nr, dest);
    }

    /// <summary>
    /// One MC-row tile against one group of panels. Bias and ReLU are applied as the last k-block's
    /// results are stored (the epilogue), so the output is written once instead of once per pass.
    /// </summary>
    private static void RunTile<TA>(TA a, int mTile, int nGroup, int m, int n, int k, int panelsPerGroup, int panels,
        int mr, int nr, float* packedB, float* c, int ldc, bool accumulate, GemmKernel kernel, float* bias, bool relu) where TA : struct, IPackA
    {
        var packA = t_packA ??= GC.AllocateUninitializedArray<float>(MC * KC + 16, pinned: true);
        int i0 = mTile * MC;
        int mc = Math.Min(MC, m - i0);
        int pFirst = nGroup * panelsPerGroup;
        int pLast = Math.Min(panels, pFirst + panelsPerGroup);
        float* tile = stackalloc float[8 * 32];
        fixed (float* pa = packA)
        {
            for (int k0 = 0; k0 < k; k0 += KC)
            {
                int kc = Math.Min(KC, k - k0);
                for (int ir = 0; ir < mc; ir += mr)
                    a.Pack(i0 + ir, Math.Min(mr, mc - ir), k0, kc, mr, pa + ir * kc);
                bool acc = accumulate || k0 > 0;
                bool last = k0 + kc >= k;
                bool reluNow = relu && last;
                float* bBlock = packedB + (long)k0 * panels * nr;
                for (int p = pFirst; p < pLast; p++)
                {
                    int j0 = p * nr;
                    int cols = Math.Min(nr, n - j0);
                    float* bp = bBlock + (long)p * kc * nr;
                    float* biasNow = last && bias is not null ? bias + j0 : null;
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        float* cTile = c + (long)(i0 + ir) * ldc + j0;
                        float* ap = pa + ir * kc;
                        if (rows == mr && cols == nr)
                        {
                            MicroKernel(kernel, kc, ap, bp, cTile, ldc, acc, biasNow, reluNow);
                        }
                        else if (kernel == GemmKernel.Avx512 && cols <= 16)
                        {
                            // Half-empty last panel (N = 16, 48, 112, …): compute only its valid half.
                            if (rows == mr && cols == 16) Kernel8x16Avx512(kc, ap, bp, cTile, ldc, acc, biasNow, reluNow);
                            else
                            {
                                Kernel8x16Avx512(kc, ap, bp, tile, 16, false, null, false);
                                StorePartial(tile, 16, cTile, ldc, rows, cols, acc, biasNow, reluNow);
                            }
                        }
                        else
                        {
                            MicroKernel(kernel, kc, ap, bp, tile, nr, false, null, false);
                            StorePartial(tile, nr, cTile, ldc, rows, cols, acc, biasNow, reluNow);
                        }
                    }
                }
            }
        }
    }

    private static readonly float[] Zeros = GC.AllocateArray<float>(4096, pinned: true);

    /// <summary>A pointer to at least <paramref name="length"/> zeros (padding rows of a packed panel).</summary>
    internal static float* ZeroRow(int length)
    {
        if (length > Zeros.Length) throw new ArgumentOutOfRangeException(nameof(length), "Packed panels are at most KC wide.");
        return (float*)Unsafe.AsPointer(ref Zeros[0]);
    }

    /// <summary>
    /// dest[j·8 + i] = rows[i][j] for j &lt; count: eight contiguous rows into one 8-wide packed panel,
    /// eight columns at a time with an in-register 8×8 transpose (contiguous loads and stores instead
    /// of eight strided scalar stores per column).
    /// </summary>
    internal static void PackRows8(float** rows, int count, float* dest)
    {
        int j = 0;
        for (; j + 8 <= count; j += 8)
        {
            var r0 = Avx.LoadVector256(rows[0] + j); var r1 = Avx.LoadVector256(rows[1] + j);
            var r2 = Avx.LoadVector256(rows[2] + j); var r3 = Avx.LoadVector256(rows[3] + j);
            var r4 = Avx.LoadVector256(rows[4] + j); var r5 = Avx.LoadVector256(rows[5] + j);
            var r6 = Avx.LoadVector256(rows[6] + j); var r7 = Avx.LoadVector256(rows[7] + j);
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dest + j * 8;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(d + 8, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(d + 16, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 24, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 32, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(d + 40, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 48, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(d + 56, Avx.Permute2x128(u3, u7, 0x31));
        }
        for (; j < count; j++)
            for (int i = 0; i < 8; i++) dest[j * 8 + i] = rows[i][j];
    }

    /// <summary>The valid rows × cols of a tile computed into a scratch buffer, stored with the epilogue.</summary>
    private static void StorePartial(float* tile, int tileLd, float* c, int ldc, int rows, int cols, bool accumulate, float* bias, bool relu)
    {
        for (int i = 0; i < rows; i++)
        {
            float* dst = c + (long)i * ldc;
            float* src = tile + i * tileLd;
            for (int j = 0; j < cols; j++)
            {
                float v = src[j] + (accumulate ? dst[j] : 0f) + (bias is null ? 0f : bias[j]);
                dst[j] = relu ? MathF.Max(v, 0f) : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(GemmKernel kernel, int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        switch (kernel)
        {
            case GemmKernel.Avx512: Kernel8x32Avx512(kc, a, b, c, ldc, accumulate, bias, relu); break;
            case GemmKernel.Avx2: Kernel6x16Avx2(kc, a, b, c, ldc, accumulate, bias, relu); break;
            default: Kernel6x16Scalar(kc, a, b, c, ldc, accumulate, bias, relu); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32Avx512(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(a4, b0, c40); c41 = Avx512F.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(a5, b0, c50); c51 = Avx512F.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(a6, b0, c60); c61 = Avx512F.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(a7, b0, c70); c71 = Avx512F.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += 32;
        }
        // One store path: no bias adds zeros, no ReLU is a floor of −∞ (an add and a max per 16 outputs, next to 256 FMAs).
        var bias0 = bias is null ? default : Vector512.Load(bias);
        var bias1 = bias is null ? default : Vector512.Load(bias + 16);
        var floor = relu ? Vector512<float>.Zero : Vector512.Create(float.NegativeInfinity);
        StoreEpilogue512(c, c00, c01, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c10, c11, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c20, c21, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c30, c31, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c40, c41, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c50, c51, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c60, c61, accumulate, bias0, bias1, floor); c += ldc;
        StoreEpilogue512(c, c70, c71, accumulate, bias0, bias1, floor);
    }

    /// <summary>c = max(acc (+ c) + bias, floor): floor is 0 for ReLU, −∞ for none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreEpilogue512(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate, Vector512<float> bias0, Vector512<float> bias1, Vector512<float> floor)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        Vector512.Max(v0 + bias0, floor).Store(c);
        Vector512.Max(v1 + bias1, floor).Store(c + 16);
    }

    /// <summary>8×16 on a 32-wide packed panel whose right half is padding: reads b[0..16) of each row of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16Avx512(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += 8;
            b += 32;
        }
        var b16 = bias is null ? default : Vector512.Load(bias);
        var floor = relu ? Vector512<float>.Zero : Vector512.Create(float.NegativeInfinity);
        Store16(c, c0, accumulate, b16, floor); Store16(c + ldc, c1, accumulate, b16, floor);
        Store16(c + 2L * ldc, c2, accumulate, b16, floor); Store16(c + 3L * ldc, c3, accumulate, b16, floor);
        Store16(c + 4L * ldc, c4, accumulate, b16, floor); Store16(c + 5L * ldc, c5, accumulate, b16, floor);
        Store16(c + 6L * ldc, c6, accumulate, b16, floor); Store16(c + 7L * ldc, c7, accumulate, b16, floor);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(float* c, Vector512<float> v, bool accumulate, Vector512<float> bias, Vector512<float> floor)
    {
        if (accumulate) v += Vector512.Load(c);
        Vector512.Max(v + bias, floor).Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16Avx2(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00); c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(a1, b0, c10); c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(a2, b0, c20); c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(a3, b0, c30); c31 = Fma.MultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(a4, b0, c40); c41 = Fma.MultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(a5, b0, c50); c51 = Fma.MultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        var bias0 = bias is null ? default : Vector256.Load(bias);
        var bias1 = bias is null ? default : Vector256.Load(bias + 8);
        var floor = relu ? Vector256<float>.Zero : Vector256.Create(float.NegativeInfinity);
        Store256(c, c00, c01, accumulate, bias0, bias1, floor); c += ldc;
        Store256(c, c10, c11, accumulate, bias0, bias1, floor); c += ldc;
        Store256(c, c20, c21, accumulate, bias0, bias1, floor); c += ldc;
        Store256(c, c30, c31, accumulate, bias0, bias1, floor); c += ldc;
        Store256(c, c40, c41, accumulate, bias0, bias1, floor); c += ldc;
        Store256(c, c50, c51, accumulate, bias0, bias1, floor);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate, Vector256<float> bias0, Vector256<float> bias1, Vector256<float> floor)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        Vector256.Max(v0 + bias0, floor).Store(c);
        Vector256.Max(v1 + bias1, floor).Store(c + 8);
    }

    private static void Kernel6x16Scalar(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        float* acc = stackalloc float[6 * 16];
        new Span<float>(acc, 6 * 16).Clear();
        for (int k = 0; k < kc; k++)
        {
            for (int i = 0; i < 6; i++)
            {
                float ai = a[i];
                for (int j = 0; j < 16; j++) acc[i * 16 + j] += ai * b[j];
            }
            a += 6;
            b += 16;
        }
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 16; j++)
            {
                float v = acc[i * 16 + j] + (accumulate ? c[(long)i * ldc + j] : 0f) + (bias is null ? 0f : bias[j]);
                c[(long)i * ldc + j] = relu ? MathF.Max(v, 0f) : v;
            }
    }
}

/// <summary>The obviously correct GEMM the fast one is tested against: three loops, double accumulation.</summary>
public static class GemmReference
{
    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * ldc + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                c[i * ldc + j] = (float)sum;
            }
    }
}
