using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace NativeIg.Tensors;

/// <summary>
/// Pinned, 64-byte-aligned float arrays reused by size class (2^k·{1, 1.25, 1.5, 1.75}: at most 25%
/// slack), so the chunks of an IG path, whose batch sizes differ, reuse each other's buffers.
/// Fresh memory is expensive (page faults on first touch), reuse is free.
/// </summary>
internal sealed class BufferPool
{
    public static BufferPool Shared { get; } = new();

    private const int AlignFloats = 16; // 64 bytes
    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _free = new();
    private long _pooledBytes;

    /// <summary>Returned buffers beyond this many pooled bytes are dropped rather than kept.</summary>
    public long MaxPooledBytes { get; set; } = 3L << 29;

    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    private long _liveBytes, _peakLiveBytes;

    /// <summary>Bytes rented and not yet returned: the tensors alive now.</summary>
    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    /// <summary>The most <see cref="LiveBytes"/> since the last <see cref="ResetPeak"/>: a workload's peak tensor memory.</summary>
    public long PeakLiveBytes => Interlocked.Read(ref _peakLiveBytes);

    public void ResetPeak() => Interlocked.Exchange(ref _peakLiveBytes, LiveBytes);

    private static readonly AsyncLocal<(int Full, int Part)> s_batchScale = new();

    /// <summary>
    /// While the returned scope is open, rents first look for the buffer a request
    /// <paramref name="full"/>/<paramref name="part"/> times larger would get: a batch of k images run
    /// after batches of B (full = B, part = k) then takes, tensor by tensor, the buffers the full batches used, instead of
    /// allocating smaller ones or taking ones a later tensor of the same batch needs. Flows into the
    /// worker threads of the parallel kernels with the execution context.
    /// </summary>
    public static IDisposable ScaleRequests(int full, int part)
    {
        var previous = s_batchScale.Value;
        s_batchScale.Value = full > part && part > 0 ? (full, part) : default;
        return new Restore(previous);
    }

    /// <summary>The size class a request of <paramref name="length"/> would have in the larger batch of an open <see cref="ScaleRequests"/>, if any.</summary>
    internal static int? ScaledClass(int length)
    {
        var (full, part) = s_batchScale.Value;
        if (part == 0 || length <= 64) return null;
        // Integer arithmetic: a tensor of k images scales to exactly the B-image tensor's length.
        long scaled = ((long)length * full + part - 1) / part;
        return scaled > int.MaxValue - AlignFloats ? null : SizeClass((int)scaled);
    }

    /// <summary>How many size classes, from the requested one up, an idle buffer may come from: the next four (≤ 2×) inside a <see cref="ScaleRequests"/> scope, else the exact class only.</summary>
    internal static int ClassesToSearch => s_batchScale.Value.Part == 0 ? 1 : 5;

    private sealed class Restore((int, int) previous) : IDisposable
    {
        public void Dispose() => s_batchScale.Value = previous;
    }

    /// <summary>A buffer with room for <paramref name="length"/> floats from a 64-byte-aligned offset.</summary>
    public (float[] Buffer, int Offset) Rent(int length)
    {
        int capacity = SizeClass(length);
        if ((ScaledClass(length) is int scaled && _free.TryGetValue(scaled, out var bag) && bag.TryTake(out var buffer)) || TryTakePooled(capacity, out buffer))
            Interlocked.Add(ref _pooledBytes, -(long)buffer.Length * sizeof(float));
        else
            buffer = GC.AllocateUninitializedArray<float>(capacity + AlignFloats, pinned: true);
        long live = Interlocked.Add(ref _liveBytes, (long)buffer.Length * sizeof(float));
        long peak;
        while (live > (peak = Interlocked.Read(ref _peakLiveBytes)) && Interlocked.CompareExchange(ref _peakLiveBytes, live, peak) != peak) { }
        return (buffer, AlignedOffset(buffer));
    }

    /// <summary>
    /// An idle buffer of this size class or, inside <see cref="ScaleRequests"/> (a smaller batch after
    /// larger ones), of one of the next four classes (at most 2× the size), so the smaller batch reuses
    /// memory instead of allocating more. Outside such a scope only the exact class is taken: repeated
    /// identical work then reuses exactly its own buffers and the pool cannot drift into holding more.
    /// </summary>
    private bool TryTakePooled(int capacity, out float[] buffer)
    {
        for (int step = 0, c = capacity, classes = ClassesToSearch; step < classes && c > 0; step++, c = SizeClass(c + 1))
        {
            if (_free.TryGetValue(c, out var bag) && bag.TryTake(out buffer!)) return true;
            if (c <= 64) break; // small sizes are exact: no neighbours worth taking
        }
        buffer = null!;
        return false;
    }

    public void Return(float[] buffer)
    {
        int capacity = buffer.Length - AlignFloats;
        if (capacity != SizeClass(capacity)) return; // not one of ours
        Interlocked.Add(ref _liveBytes, -(long)buffer.Length * sizeof(float));
        if (PooledBytes + (long)buffer.Length * sizeof(float) > MaxPooledBytes) return;
        Interlocked.Add(ref _pooledBytes, (long)buffer.Length * sizeof(float));
        _free.GetOrAdd(capacity, _ => new ConcurrentBag<float[]>()).Add(buffer);
    }

    /// <summary>Drops every pooled buffer (memory goes back to the GC).</summary>
    public void Clear()
    {
        _free.Clear();
        Interlocked.Exchange(ref _pooledBytes, 0);
    }

    /// <summary>The smallest 2^k·{1, 1.25, 1.5, 1.75} ≥ n (n itself below 64).</summary>
    internal static int SizeClass(int n)
    {
        if (n <= 64) return Math.Max(n, 1);
        int power = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)n)); // largest 2^k ≤ n
        if (n == power) return n;
        int quarter = power / 4;
        long c = power + (long)((n - power + quarter - 1) / quarter) * quarter;
        return (int)Math.Min(c, int.MaxValue - AlignFloats);
    }

    private static unsafe int AlignedOffset(float[] pinned)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref pinned[0]);
        int misalignment = (int)(address % 64);
        return misalignment == 0 ? 0 : (64 - misalignment) / sizeof(float);
    }
}
