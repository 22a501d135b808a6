using System.Collections.Concurrent;

namespace NativeIg.Tensors;

/// <summary>Byte and int arrays (ReLU masks, max-pool taps) from a pool that also keeps large arrays.</summary>
internal static class ScratchPool
{
    private static readonly ConcurrentDictionary<int, ConcurrentBag<byte[]>> s_free = new();
    private static long s_allocatedBytes;

    /// <summary>Bytes of every array this pool has allocated (they are kept for reuse, so this is its footprint).</summary>
    public static long AllocatedBytes => Interlocked.Read(ref s_allocatedBytes);

    /// <summary>
    /// A byte array of at least <paramref name="length"/>, in the same size classes as
    /// <see cref="BufferPool"/> (≤ 25% slack) and, like it, taking an idle array up to 2× larger before
    /// allocating: IG's shorter chunks then reuse the full chunks' masks, so memory stays flat in the steps.
    /// </summary>
    public static byte[] RentBytes(int length)
    {
        int capacity = BufferPool.SizeClass(length);
        if (BufferPool.ScaledClass(length) is int scaled && s_free.TryGetValue(scaled, out var scaledBag) && scaledBag.TryTake(out var match)) return match;
        for (int step = 0, c = capacity, classes = BufferPool.ClassesToSearch; step < classes && c > 0; step++, c = BufferPool.SizeClass(c + 1))
        {
            if (s_free.TryGetValue(c, out var bag) && bag.TryTake(out var array)) return array;
            if (c <= 64) break;
        }
        Interlocked.Add(ref s_allocatedBytes, capacity);
        return GC.AllocateUninitializedArray<byte>(capacity);
    }

    /// <summary>Gives back an array from <see cref="RentBytes"/>.</summary>
    public static void ReturnBytes(byte[] array)
    {
        if (array.Length == 0 || array.Length != BufferPool.SizeClass(array.Length)) return; // not one of ours
        s_free.GetOrAdd(array.Length, _ => new ConcurrentBag<byte[]>()).Add(array);
    }
}
