using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NativeIg.Tensors;

/// <summary>ReLU's kernels: the activation in place, its byte mask (what the fused convolution keeps for backward) and the masked gradient.</summary>
public static class Relu
{
    /// <summary>x = max(x, 0) in place.</summary>
    public static void InPlace(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    private const int ParallelBlock = 1 << 16;

    /// <summary>mask[i] = 1 where y[i] &gt; 0, else 0: all ReLU's backward needs, in a quarter of the memory of y.</summary>
    public static unsafe void Mask(ReadOnlySpan<float> y, Span<byte> mask)
    {
        if (mask.Length < y.Length) throw new ArgumentException($"ReLU mask: {mask.Length} bytes for {y.Length} values.");
        fixed (float* py = y)
        fixed (byte* pm = mask)
        {
            float* yp = py; byte* mp = pm; int n = y.Length;
            ForBlocks(n, (start, end) => MaskBlock(yp + start, mp + start, end - start));
        }
    }

    private static unsafe void MaskBlock(float* y, byte* mask, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four float vectors narrow to one byte vector (Vector<T>: 256-bit on x86 AVX2/AVX-512, 128-bit on ARM64/SSE).
            int w = Vector<float>.Count;
            var one = Vector<uint>.One;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var m0 = Vector.GreaterThan(Vector.Load(y + i), Vector<float>.Zero).As<int, uint>() & one;
                var m1 = Vector.GreaterThan(Vector.Load(y + i + w), Vector<float>.Zero).As<int, uint>() & one;
                var m2 = Vector.GreaterThan(Vector.Load(y + i + 2 * w), Vector<float>.Zero).As<int, uint>() & one;
                var m3 = Vector.GreaterThan(Vector.Load(y + i + 3 * w), Vector<float>.Zero).As<int, uint>() & one;
                Vector.Narrow(Vector.Narrow(m0, m1), Vector.Narrow(m2, m3)).Store(mask + i);
            }
        }
        for (; i < n; i++) mask[i] = y[i] > 0f ? (byte)1 : (byte)0;
    }

    /// <summary>g[i] = 0 where mask[i] is 0 (in place).</summary>
    public static unsafe void ApplyMask(Span<float> g, ReadOnlySpan<byte> mask)
    {
        if (mask.Length < g.Length) throw new ArgumentException($"Apply mask: {mask.Length} bytes for {g.Length} values.");
        fixed (float* pg = g)
        fixed (byte* pm = mask)
        {
            float* gp = pg; byte* mp = pm; int n = g.Length;
            ForBlocks(n, (start, end) => ApplyMaskBlock(gp + start, mp + start, end - start));
        }
    }

    private static unsafe void ApplyMaskBlock(float* g, byte* mask, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // One byte vector widens to four float-wide masks.
            int w = Vector<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                Vector.Widen(Vector.Load(mask + i), out var low, out var high);
                Vector.Widen(low, out var k0, out var k1);
                Vector.Widen(high, out var k2, out var k3);
                (Vector.Load(g + i) & Vector.GreaterThan(k0, Vector<uint>.Zero).As<uint, float>()).Store(g + i);
                (Vector.Load(g + i + w) & Vector.GreaterThan(k1, Vector<uint>.Zero).As<uint, float>()).Store(g + i + w);
                (Vector.Load(g + i + 2 * w) & Vector.GreaterThan(k2, Vector<uint>.Zero).As<uint, float>()).Store(g + i + 2 * w);
                (Vector.Load(g + i + 3 * w) & Vector.GreaterThan(k3, Vector<uint>.Zero).As<uint, float>()).Store(g + i + 3 * w);
            }
        }
        for (; i < n; i++)
            if (mask[i] == 0) g[i] = 0f;
    }

    /// <summary>Runs body over [0, n) in blocks on the worker threads (one block when small).</summary>
    private static void ForBlocks(int n, Action<int, int> body)
    {
        int blocks = (n + ParallelBlock - 1) / ParallelBlock;
        if (blocks <= 1 || ComputeThreads.Current == 1) { body(0, n); return; }
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, b =>
            body(b * ParallelBlock, Math.Min(n, (b + 1) * ParallelBlock)));
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (ReLU's gradient read off its output).</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate = false)
    {
        if (y.Length != dy.Length || y.Length != dx.Length)
            throw new ArgumentException($"ReLU backward: lengths differ (y {y.Length}, dy {dy.Length}, dx {dx.Length}).");
        for (int i = 0; i < y.Length; i++)
        {
            float g = y[i] > 0f ? dy[i] : 0f;
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
