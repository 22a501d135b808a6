using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>
/// Single-precision GEMM, C[M×N] (+)= A[M×K]·B[K×N], row-major, in the BLIS style: B is packed once
/// into KC×NR panels, each worker packs its MC×KC block of A into MR-row panels, and a register-blocked
/// micro-kernel computes MR×NR tiles of C (8×32 on AVX-512: 16 zmm accumulators keep both FMA pipes
/// busy through the 4-cycle latency; 6×16 on AVX2).
/// </summary>
public static unsafe partial class Gemm
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

    /// <summary>Whether this CPU (and the runtime's settings) can run <paramref name="kernel"/>.</summary>
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

    /// <summary>Worker threads for GEMM and the other parallel kernels: <see cref="ComputeThreads.Current"/>.</summary>
    internal static int Threads => ComputeThreads.Current;

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
    internal static void Multiply<TA, TB>(int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate, GemmKernel kernel,
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
    internal static void Multiply<TA>(int m, int n, int k, TA a, PackedB b, float* c, int ldc, bool accumulate, float* bias = null, bool relu = false)
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
}
