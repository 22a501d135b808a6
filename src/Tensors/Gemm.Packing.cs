using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>Packing helpers of the GEMM: zero rows and the in-register transposes that pack A panels.</summary>
public static unsafe partial class Gemm
{
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
}
