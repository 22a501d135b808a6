using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>Which micro-kernel a GEMM runs. <see cref="Gemm.Best"/> is chosen from the CPU at start-up.</summary>
public enum GemmKernel
{
    /// <summary>Plain loops: the fallback where the runtime offers no vector hardware.</summary>
    Scalar,
    /// <summary>6×16 with 256-bit FMA (x86 AVX2 + FMA3).</summary>
    Avx2,
    /// <summary>8×32 with 512-bit FMA (x86 AVX-512F).</summary>
    Avx512,
    /// <summary>6×8 with 128-bit vectors: NEON/AdvSimd on ARM64, SSE on x86 without AVX2 (FMA where the CPU has it).</summary>
    Vector128,
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
        if (!transposed && Gemm.CanPackRows(mr))
        {
            float** rowPointers = stackalloc float*[mr];
            for (int i = 0; i < mr; i++) rowPointers[i] = i < rows ? data + (long)(i0 + i) * ld + k0 : Gemm.ZeroRow(kc);
            Gemm.PackRows(rowPointers, mr, kc, dest);
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
    /// <summary>
    /// The widest kernel this process may use, chosen once. The runtime's switches narrow it:
    /// <c>DOTNET_EnableAVX512=0</c> (in .NET 10; <c>DOTNET_EnableAVX512F</c> is no longer read) gives the
    /// AVX2 path, <c>DOTNET_EnableAVX2=0</c> the 128-bit path that ARM64 takes.
    /// </summary>
    public static GemmKernel Best { get; } =
        IsSupported(GemmKernel.Avx512) ? GemmKernel.Avx512 :
        IsSupported(GemmKernel.Avx2) ? GemmKernel.Avx2 :
        IsSupported(GemmKernel.Vector128) ? GemmKernel.Vector128 : GemmKernel.Scalar;

    public static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Scalar => true,
        GemmKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated,
        GemmKernel.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        GemmKernel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>The instruction-set path every kernel of this process takes, in words (for benchmark tables and --version).</summary>
    public static string InstructionSetPath => Best switch
    {
        GemmKernel.Avx512 => "AVX-512",
        GemmKernel.Avx2 => "AVX2+FMA",
        GemmKernel.Vector128 => System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? "128-bit (AdvSimd)" : Fma.IsSupported ? "128-bit (SSE+FMA)" : "128-bit (SSE)",
        _ => "scalar",
    };

    /// <summary>Worker threads for GEMM and the other parallel kernels (default: all cores).</summary>
    public static int Threads { get; set; } = Environment.ProcessorCount;

    private const int KC = 256;
    private const int MC = 96; // multiple of both 8 and 6

    private static (int Mr, int Nr) Geometry(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => (8, 32),
        GemmKernel.Vector128 => (6, 8),
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

    /// <summary>Whether <see cref="PackRows"/> has a vector transpose for panels <paramref name="mr"/> rows high on this CPU.</summary>
    internal static bool CanPackRows(int mr) =>
        (mr == 8 || mr == 6) && Avx.IsSupported && Vector256.IsHardwareAccelerated ||
        mr == 6 && Vector128.IsHardwareAccelerated;

    /// <summary>
    /// dest[j·mr + i] = rows[i][j] for j &lt; count (mr = 6 or 8): contiguous rows into one packed panel
    /// with in-register transposes — contiguous loads and stores instead of mr strided scalar stores per
    /// column. A 6-row panel is transposed as 8 (or as 4 + 4) rows whose last two are zeros; each
    /// column's store then runs two floats into the next column, which the next store overwrites, so
    /// the vector loop stops one column group early and the tail is copied plainly.
    /// </summary>
    internal static void PackRows(float** rows, int mr, int count, float* dest)
    {
        int j = 0;
        if (Avx.IsSupported && Vector256.IsHardwareAccelerated)
        {
            float* zero = ZeroRow(count);
            float* r6 = mr == 8 ? rows[6] : zero, r7 = mr == 8 ? rows[7] : zero;
            for (; j + 8 < count || mr == 8 && j + 8 <= count; j += 8)
            {
                Transpose8x8(Avx.LoadVector256(rows[0] + j), Avx.LoadVector256(rows[1] + j), Avx.LoadVector256(rows[2] + j), Avx.LoadVector256(rows[3] + j),
                    Avx.LoadVector256(rows[4] + j), Avx.LoadVector256(rows[5] + j), Avx.LoadVector256(r6 + j), Avx.LoadVector256(r7 + j),
                    out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                float* d = dest + j * mr;
                c0.Store(d); c1.Store(d + mr); c2.Store(d + 2 * mr); c3.Store(d + 3 * mr);
                c4.Store(d + 4 * mr); c5.Store(d + 5 * mr); c6.Store(d + 6 * mr); c7.Store(d + 7 * mr);
            }
        }
        else if (mr == 6 && Vector128.IsHardwareAccelerated)
        {
            var zero = Vector128<float>.Zero;
            for (; j + 4 < count; j += 4)
            {
                Transpose4x4(Vector128.Load(rows[0] + j), Vector128.Load(rows[1] + j), Vector128.Load(rows[2] + j), Vector128.Load(rows[3] + j),
                    out var c0, out var c1, out var c2, out var c3);
                Transpose4x4(Vector128.Load(rows[4] + j), Vector128.Load(rows[5] + j), zero, zero, out var e0, out var e1, out var e2, out var e3);
                float* d = dest + j * 6;
                c0.Store(d); e0.Store(d + 4); c1.Store(d + 6); e1.Store(d + 10);
                c2.Store(d + 12); e2.Store(d + 16); c3.Store(d + 18); e3.Store(d + 22);
            }
        }
        for (; j < count; j++)
            for (int i = 0; i < mr; i++) dest[j * mr + i] = rows[i][j];
    }

    /// <summary>Eight rows of eight in, eight columns out (unpack, shuffle, then swap 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(u0, u4, 0x20); c1 = Avx.Permute2x128(u1, u5, 0x20);
        c2 = Avx.Permute2x128(u2, u6, 0x20); c3 = Avx.Permute2x128(u3, u7, 0x20);
        c4 = Avx.Permute2x128(u0, u4, 0x31); c5 = Avx.Permute2x128(u1, u5, 0x31);
        c6 = Avx.Permute2x128(u2, u6, 0x31); c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Four rows of four in, four columns out: SSE unpack/movlhps on x86, zip on ARM64, lane copies elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose4x4(Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3,
        out Vector128<float> c0, out Vector128<float> c1, out Vector128<float> c2, out Vector128<float> c3)
    {
        if (Sse.IsSupported)
        {
            var t0 = Sse.UnpackLow(r0, r1); var t1 = Sse.UnpackHigh(r0, r1);
            var t2 = Sse.UnpackLow(r2, r3); var t3 = Sse.UnpackHigh(r2, r3);
            c0 = Sse.MoveLowToHigh(t0, t2); c1 = Sse.MoveHighToLow(t2, t0);
            c2 = Sse.MoveLowToHigh(t1, t3); c3 = Sse.MoveHighToLow(t3, t1);
        }
        else if (System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported)
        {
            var t0 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(r0, r1).AsUInt64(); var t1 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(r0, r1).AsUInt64();
            var t2 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(r2, r3).AsUInt64(); var t3 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(r2, r3).AsUInt64();
            c0 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(t0, t2).AsSingle(); c1 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(t0, t2).AsSingle();
            c2 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipLow(t1, t3).AsSingle(); c3 = System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.ZipHigh(t1, t3).AsSingle();
        }
        else
        {
            c0 = Vector128.Create(r0[0], r1[0], r2[0], r3[0]); c1 = Vector128.Create(r0[1], r1[1], r2[1], r3[1]);
            c2 = Vector128.Create(r0[2], r1[2], r2[2], r3[2]); c3 = Vector128.Create(r0[3], r1[3], r2[3], r3[3]);
        }
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
            case GemmKernel.Vector128: Kernel6x8Vector128(kc, a, b, c, ldc, accumulate, bias, relu); break;
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

    /// <summary>
    /// 6×8 with 128-bit vectors: 12 accumulators, two B vectors and a broadcast fit the 16 registers of
    /// SSE (and leave room on ARM64's 32). Fused multiply-add where the CPU has one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x8Vector128(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c00 = MultiplyAdd128(a0, b0, c00); c01 = MultiplyAdd128(a0, b1, c01);
            var a1 = Vector128.Create(a[1]);
            c10 = MultiplyAdd128(a1, b0, c10); c11 = MultiplyAdd128(a1, b1, c11);
            var a2 = Vector128.Create(a[2]);
            c20 = MultiplyAdd128(a2, b0, c20); c21 = MultiplyAdd128(a2, b1, c21);
            var a3 = Vector128.Create(a[3]);
            c30 = MultiplyAdd128(a3, b0, c30); c31 = MultiplyAdd128(a3, b1, c31);
            var a4 = Vector128.Create(a[4]);
            c40 = MultiplyAdd128(a4, b0, c40); c41 = MultiplyAdd128(a4, b1, c41);
            var a5 = Vector128.Create(a[5]);
            c50 = MultiplyAdd128(a5, b0, c50); c51 = MultiplyAdd128(a5, b1, c51);
            a += 6;
            b += 8;
        }
        var bias0 = bias is null ? default : Vector128.Load(bias);
        var bias1 = bias is null ? default : Vector128.Load(bias + 4);
        var floor = relu ? Vector128<float>.Zero : Vector128.Create(float.NegativeInfinity);
        Store128(c, c00, c01, accumulate, bias0, bias1, floor); c += ldc;
        Store128(c, c10, c11, accumulate, bias0, bias1, floor); c += ldc;
        Store128(c, c20, c21, accumulate, bias0, bias1, floor); c += ldc;
        Store128(c, c30, c31, accumulate, bias0, bias1, floor); c += ldc;
        Store128(c, c40, c41, accumulate, bias0, bias1, floor); c += ldc;
        Store128(c, c50, c51, accumulate, bias0, bias1, floor);
    }

    /// <summary>a·b + c: one fused instruction on FMA3 or NEON, a multiply and an add on plain SSE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> MultiplyAdd128(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) return System.Runtime.Intrinsics.Arm.AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> v0, Vector128<float> v1, bool accumulate, Vector128<float> bias0, Vector128<float> bias1, Vector128<float> floor)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }
        Vector128.Max(v0 + bias0, floor).Store(c);
        Vector128.Max(v1 + bias1, floor).Store(c + 4);
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
