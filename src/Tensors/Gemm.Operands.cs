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
internal unsafe interface IPackA
{
    void Pack(int i0, int rows, int k0, int kc, int mr, float* dest);
}

/// <summary>Fills one packed micro-panel of B [K×N]: dest[k·nr + j] = B[k0 + k, j0 + j], zero past cols.</summary>
internal unsafe interface IPackB
{
    void Pack(int k0, int kc, int j0, int cols, int nr, float* dest);
}

/// <summary>Row-major A with leading dimension lda, optionally transposed (A stored as [K×M]).</summary>
internal readonly unsafe struct DenseA(float* data, int ld, bool transposed) : IPackA
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
internal readonly unsafe struct DenseB(float* data, int ld, bool transposed) : IPackB
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
internal sealed unsafe class PackedB
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
