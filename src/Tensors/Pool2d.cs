using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>How an average pool divides at padded borders.</summary>
public enum AvgPoolDivisor
{
    /// <summary>Caffe: the window clipped to the padded image (H + pad), so pad pixels count as zeros.</summary>
    IncludePadding,
    /// <summary>TensorFlow: only the pixels inside the image count.</summary>
    ValidOnly,
}

/// <summary>
/// Max and average pooling over NHWC, forward and backward. Vectorised across channels (innermost in
/// NHWC), one output pixel at a time. Max pool records for each output the flat input index of the
/// first maximum in row-major window order (Caffe's tie rule: only a strictly larger value replaces it).
/// </summary>
public static class Pool2d
{
    /// <summary>
    /// y[N, OH, OW, C] = max over each window of x; taps[i] = which window position (kh·KW + kw) held
    /// y[i]'s maximum. A byte per output instead of an int index keeps IG's saved state 4× smaller.
    /// </summary>
    public static void MaxForward(WindowGeometry g, Tensor x, Tensor y, byte[] taps)
    {
        g.RequireInput(x, "MaxPool.Forward");
        g.RequireOutput(y, g.C, "MaxPool.Forward");
        if (g.KernelH * g.KernelW > 256)
            throw new ArgumentException($"MaxPool: a {g.KernelH}×{g.KernelW} window has more than 256 positions.");
        if (taps.Length < y.Length)
            throw new ArgumentException($"MaxPool.Forward: taps holds {taps.Length} entries, the output has {y.Length}.");
        var xs = x.Buffer; int xo = x.Offset;
        var ys = y.Buffer; int yo = y.Offset;
        int c = g.C;
        Parallel.For(0, g.N * g.OutH, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, row =>
        {
            int n = row / g.OutH, oy = row % g.OutH;
            int wy = oy * g.StrideH - g.PadTop;
            int y0 = Math.Max(wy, 0), y1 = Math.Min(wy + g.KernelH, g.H);
            // Per output pixel, the window's in-image taps: where each starts in x, and its position kh·KW + kw.
            Span<int> offsets = stackalloc int[g.KernelH * g.KernelW];
            Span<int> positions = stackalloc int[g.KernelH * g.KernelW];
            ref float xr = ref xs[xo];
            for (int ox = 0; ox < g.OutW; ox++)
            {
                int wx = ox * g.StrideW - g.PadLeft;
                int x0 = Math.Max(wx, 0), x1 = Math.Min(wx + g.KernelW, g.W);
                int count = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                    {
                        offsets[count] = ((n * g.H + iy) * g.W + ix) * c;
                        positions[count++] = (iy - wy) * g.KernelW + (ix - wx);
                    }
                int outBase = ((n * g.OutH + oy) * g.OutW + ox) * c;
                int ch = 0;
                if (Vector.IsHardwareAccelerated && Vector<int>.Count is 4 or 8)
                {
                    // Vector<float>: 256 bits on AVX2 and AVX-512 machines, 128 on ARM64 and SSE, one loop for all.
                    // Four channel vectors per pass share each tap's offset and position (and overlap their latencies).
                    int w = Vector<float>.Count;
                    ref int offset0 = ref MemoryMarshal.GetReference(offsets);
                    ref int position0 = ref MemoryMarshal.GetReference(positions);
                    for (; ch + 4 * w <= c; ch += 4 * w)
                    {
                        var best0 = Vector.LoadUnsafe(ref xr, (nuint)(offset0 + ch));
                        var best1 = Vector.LoadUnsafe(ref xr, (nuint)(offset0 + ch + w));
                        var best2 = Vector.LoadUnsafe(ref xr, (nuint)(offset0 + ch + 2 * w));
                        var best3 = Vector.LoadUnsafe(ref xr, (nuint)(offset0 + ch + 3 * w));
                        var tap0 = new Vector<int>(position0);
                        Vector<int> tap1 = tap0, tap2 = tap0, tap3 = tap0;
                        for (int t = 1; t < count; t++)
                        {
                            int at = Unsafe.Add(ref offset0, t) + ch;
                            var position = new Vector<int>(Unsafe.Add(ref position0, t));
                            var v0 = Vector.LoadUnsafe(ref xr, (nuint)at);
                            var v1 = Vector.LoadUnsafe(ref xr, (nuint)(at + w));
                            var v2 = Vector.LoadUnsafe(ref xr, (nuint)(at + 2 * w));
                            var v3 = Vector.LoadUnsafe(ref xr, (nuint)(at + 3 * w));
                            var greater0 = Vector.GreaterThan(v0, best0); // strictly larger: the first maximum keeps its tap
                            var greater1 = Vector.GreaterThan(v1, best1);
                            var greater2 = Vector.GreaterThan(v2, best2);
                            var greater3 = Vector.GreaterThan(v3, best3);
                            best0 = Vector.ConditionalSelect(greater0, v0, best0);
                            best1 = Vector.ConditionalSelect(greater1, v1, best1);
                            best2 = Vector.ConditionalSelect(greater2, v2, best2);
                            best3 = Vector.ConditionalSelect(greater3, v3, best3);
                            tap0 = Vector.ConditionalSelect(greater0, position, tap0);
                            tap1 = Vector.ConditionalSelect(greater1, position, tap1);
                            tap2 = Vector.ConditionalSelect(greater2, position, tap2);
                            tap3 = Vector.ConditionalSelect(greater3, position, tap3);
                        }
                        best0.StoreUnsafe(ref ys[yo + outBase + ch]);
                        best1.StoreUnsafe(ref ys[yo + outBase + ch + w]);
                        best2.StoreUnsafe(ref ys[yo + outBase + ch + 2 * w]);
                        best3.StoreUnsafe(ref ys[yo + outBase + ch + 3 * w]);
                        StoreTaps(tap0, ref taps[outBase + ch]);
                        StoreTaps(tap1, ref taps[outBase + ch + w]);
                        StoreTaps(tap2, ref taps[outBase + ch + 2 * w]);
                        StoreTaps(tap3, ref taps[outBase + ch + 3 * w]);
                    }
                    for (; ch + w <= c; ch += w)
                    {
                        var best = Vector.LoadUnsafe(ref xr, (nuint)(offset0 + ch));
                        var bestTap = new Vector<int>(position0);
                        for (int t = 1; t < count; t++)
                        {
                            var v = Vector.LoadUnsafe(ref xr, (nuint)(Unsafe.Add(ref offset0, t) + ch));
                            var greater = Vector.GreaterThan(v, best);
                            best = Vector.ConditionalSelect(greater, v, best);
                            bestTap = Vector.ConditionalSelect(greater, new Vector<int>(Unsafe.Add(ref position0, t)), bestTap);
                        }
                        best.StoreUnsafe(ref ys[yo + outBase + ch]);
                        StoreTaps(bestTap, ref taps[outBase + ch]);
                    }
                }
                for (; ch < c; ch++)
                {
                    float best = Unsafe.Add(ref xr, offsets[0] + ch);
                    int bestTap = positions[0];
                    for (int t = 1; t < count; t++)
                    {
                        float v = Unsafe.Add(ref xr, offsets[t] + ch);
                        if (v > best) { best = v; bestTap = positions[t]; }
                    }
                    ys[yo + outBase + ch] = best;
                    taps[outBase + ch] = (byte)bestTap;
                }
            }
        });
    }

    /// <summary>Vector&lt;int&gt;.Count taps (each &lt; 256) narrowed to bytes and stored (4 or 8 lanes; the caller checks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTaps(Vector<int> taps, ref byte destination)
    {
        var words = Vector.Narrow(taps.As<int, uint>(), taps.As<int, uint>());
        var bytes = Vector.Narrow(words, words).As<byte, ulong>();
        if (Vector<int>.Count == 8) Unsafe.WriteUnaligned(ref destination, bytes[0]);
        else Unsafe.WriteUnaligned(ref destination, (uint)bytes[0]);
    }

    /// <summary>
    /// dx[window tap of i] += dy[i]; dx is overwritten unless <paramref name="accumulate"/>. Written as a
    /// gather: each input pixel sums dy over the few windows that contain it and whose recorded tap is
    /// its position, so channels vectorise (a compare of 16 taps and a masked add) and rows run in
    /// parallel with no write conflicts.
    /// </summary>
    public static void MaxBackward(WindowGeometry g, Tensor dy, byte[] taps, Tensor dx, bool accumulate = false)
    {
        g.RequireOutput(dy, g.C, "MaxPool.Backward (dy)");
        g.RequireInput(dx, "MaxPool.Backward (dx)");
        var dxb = dx.Buffer; int dxo = dx.Offset;
        var dyb = dy.Buffer; int dyo = dy.Offset;
        int c = g.C;
        int most = g.KernelH * g.KernelW;
        Parallel.For(0, g.N * g.H, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, row =>
        {
            int n = row / g.H, iy = row % g.H;
            var (oy0, oy1) = Covering(iy + g.PadTop, g.KernelH, g.StrideH, g.OutH);
            // Per input pixel, the windows that cover it: where each output starts, and this pixel's tap in it.
            Span<int> outputs = stackalloc int[most];
            Span<int> positions = stackalloc int[most];
            ref float dyr = ref dyb[dyo];
            for (int ix = 0; ix < g.W; ix++)
            {
                var (ox0, ox1) = Covering(ix + g.PadLeft, g.KernelW, g.StrideW, g.OutW);
                int count = 0;
                for (int oy = oy0; oy <= oy1; oy++)
                    for (int ox = ox0; ox <= ox1; ox++)
                    {
                        outputs[count] = ((n * g.OutH + oy) * g.OutW + ox) * c;
                        positions[count++] = (iy + g.PadTop - oy * g.StrideH) * g.KernelW + (ix + g.PadLeft - ox * g.StrideW);
                    }
                int at = dxo + ((n * g.H + iy) * g.W + ix) * c;
                int ch = 0;
                if (Vector.IsHardwareAccelerated && Vector<int>.Count is 4 or 8)
                {
                    int w = Vector<float>.Count;
                    ref int output0 = ref MemoryMarshal.GetReference(outputs);
                    ref int position0 = ref MemoryMarshal.GetReference(positions);
                    ref byte tapr = ref MemoryMarshal.GetArrayDataReference(taps);
                    for (; ch + 4 * w <= c; ch += 4 * w)
                    {
                        var sum0 = accumulate ? Vector.LoadUnsafe(ref dxb[at + ch]) : Vector<float>.Zero;
                        var sum1 = accumulate ? Vector.LoadUnsafe(ref dxb[at + ch + w]) : Vector<float>.Zero;
                        var sum2 = accumulate ? Vector.LoadUnsafe(ref dxb[at + ch + 2 * w]) : Vector<float>.Zero;
                        var sum3 = accumulate ? Vector.LoadUnsafe(ref dxb[at + ch + 3 * w]) : Vector<float>.Zero;
                        for (int t = 0; t < count; t++)
                        {
                            int o = Unsafe.Add(ref output0, t) + ch;
                            var position = new Vector<int>(Unsafe.Add(ref position0, t));
                            sum0 += Vector.LoadUnsafe(ref dyr, (nuint)o) & Vector.Equals(WidenTaps(ref Unsafe.Add(ref tapr, o)), position).As<int, float>();
                            sum1 += Vector.LoadUnsafe(ref dyr, (nuint)(o + w)) & Vector.Equals(WidenTaps(ref Unsafe.Add(ref tapr, o + w)), position).As<int, float>();
                            sum2 += Vector.LoadUnsafe(ref dyr, (nuint)(o + 2 * w)) & Vector.Equals(WidenTaps(ref Unsafe.Add(ref tapr, o + 2 * w)), position).As<int, float>();
                            sum3 += Vector.LoadUnsafe(ref dyr, (nuint)(o + 3 * w)) & Vector.Equals(WidenTaps(ref Unsafe.Add(ref tapr, o + 3 * w)), position).As<int, float>();
                        }
                        sum0.StoreUnsafe(ref dxb[at + ch]);
                        sum1.StoreUnsafe(ref dxb[at + ch + w]);
                        sum2.StoreUnsafe(ref dxb[at + ch + 2 * w]);
                        sum3.StoreUnsafe(ref dxb[at + ch + 3 * w]);
                    }
                    for (; ch + w <= c; ch += w)
                    {
                        var sum = accumulate ? Vector.LoadUnsafe(ref dxb[at + ch]) : Vector<float>.Zero;
                        for (int t = 0; t < count; t++)
                        {
                            int o = Unsafe.Add(ref output0, t) + ch;
                            var mine = Vector.Equals(WidenTaps(ref Unsafe.Add(ref tapr, o)), new Vector<int>(Unsafe.Add(ref position0, t))).As<int, float>();
                            sum += Vector.LoadUnsafe(ref dyr, (nuint)o) & mine;
                        }
                        sum.StoreUnsafe(ref dxb[at + ch]);
                    }
                }
                for (; ch < c; ch++)
                {
                    float sum = accumulate ? dxb[at + ch] : 0f;
                    for (int t = 0; t < count; t++)
                        if (taps[outputs[t] + ch] == positions[t]) sum += Unsafe.Add(ref dyr, outputs[t] + ch);
                    dxb[at + ch] = sum;
                }
            }
        });
    }

    /// <summary>Vector&lt;int&gt;.Count recorded taps (bytes) widened to int lanes (4 or 8 lanes; the caller checks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<int> WidenTaps(ref byte source)
    {
        if (Vector<int>.Count == 8)
        {
            var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref source)).AsByte();
            return Avx2.IsSupported
                ? Avx2.ConvertToVector256Int32(bytes).AsVector()
                : Vector256.WidenLower(Vector128.WidenLower(bytes).ToVector256Unsafe()).AsInt32().AsVector();
        }
        var four = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref source)).AsByte();
        return Vector128.WidenLower(Vector128.WidenLower(four)).AsInt32().AsVector();
    }

    /// <summary>The outputs o0…o1 whose windows [o·stride, o·stride + kernel) cover padded position p.</summary>
    private static (int First, int Last) Covering(int p, int kernel, int stride, int outputs)
    {
        int numerator = p - kernel + 1;
        int first = numerator <= 0 ? 0 : (numerator + stride - 1) / stride;
        int last = Math.Min(outputs - 1, p / stride);
        return (first, last);
    }

    /// <summary>y = mean over each window of x, with the given divisor rule at borders.</summary>
    public static void AvgForward(WindowGeometry g, Tensor x, Tensor y, AvgPoolDivisor divisor)
    {
        g.RequireInput(x, "AvgPool.Forward");
        g.RequireOutput(y, g.C, "AvgPool.Forward");
        var xs = x.Span; var ys = y.Span;
        int c = g.C;
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    var (y0, y1, x0, x1, scale) = AvgWindow(g, oy, ox, divisor);
                    var dst = ys.Slice(((n * g.OutH + oy) * g.OutW + ox) * c, c);
                    dst.Clear();
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                            System.Numerics.Tensors.TensorPrimitives.Add(dst, xs.Slice(((n * g.H + iy) * g.W + ix) * c, c), dst);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(dst, scale, dst);
                }
    }

    /// <summary>dx += dy / divisor spread over each window.</summary>
    public static void AvgBackward(WindowGeometry g, Tensor dy, Tensor dx, AvgPoolDivisor divisor, bool accumulate = false)
    {
        g.RequireOutput(dy, g.C, "AvgPool.Backward (dy)");
        g.RequireInput(dx, "AvgPool.Backward (dx)");
        var dys = dy.Span; var dxs = dx.Span;
        if (!accumulate) dxs.Clear();
        int c = g.C;
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    var (y0, y1, x0, x1, scale) = AvgWindow(g, oy, ox, divisor);
                    var src = dys.Slice(((n * g.OutH + oy) * g.OutW + ox) * c, c);
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            var dst = dxs.Slice(((n * g.H + iy) * g.W + ix) * c, c);
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, scale, dst, dst);
                        }
                }
    }

    /// <summary>The window clipped to the image, and 1/divisor.</summary>
    internal static (int Y0, int Y1, int X0, int X1, float Scale) AvgWindow(WindowGeometry g, int oy, int ox, AvgPoolDivisor divisor)
    {
        int ys = oy * g.StrideH - g.PadTop, xs = ox * g.StrideW - g.PadLeft;
        int y0 = Math.Max(ys, 0), y1 = Math.Min(ys + g.KernelH, g.H);
        int x0 = Math.Max(xs, 0), x1 = Math.Min(xs + g.KernelW, g.W);
        int count = divisor == AvgPoolDivisor.ValidOnly
            ? (y1 - y0) * (x1 - x0)
            : (Math.Min(ys + g.KernelH, g.H + g.PadTop) - ys) * (Math.Min(xs + g.KernelW, g.W + g.PadLeft) - xs);
        return (y0, y1, x0, x1, 1f / count);
    }
}
