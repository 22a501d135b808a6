using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>The register-blocked micro-kernels, one per instruction-set path, and their epilogues (bias, ReLU, accumulate).</summary>
public static unsafe partial class Gemm
{
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
