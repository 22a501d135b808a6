namespace NativeIg.Tensors;

/// <summary>
/// A bound on the host tensor memory the calling thread may allocate inside a scope, checked before each
/// allocation. A model's shape check runs one image through the graph under it, so that a graph whose
/// activations would need gigabytes (a huge declared size, 200,000 chained layers) is refused with its
/// estimate before the memory is taken, instead of exhausting the machine.
/// </summary>
internal static class AllocationBudget
{
    [ThreadStatic] private static long t_limitBytes, t_usedBytes;
    [ThreadStatic] private static bool t_active;

    /// <summary>Whether a scope is open on this thread (read first, so that allocations outside one cost a field read).</summary>
    public static bool Active => t_active;

    /// <summary>Starts counting on this thread; allocations past <paramref name="limitBytes"/> in all throw <see cref="AllocationBudgetExceededException"/>.</summary>
    public static Scope Begin(long limitBytes)
    {
        var previous = (t_active, t_limitBytes, t_usedBytes);
        (t_active, t_limitBytes, t_usedBytes) = (true, limitBytes, 0);
        return new Scope(previous);
    }

    /// <summary>Called before a host tensor of <paramref name="shape"/> is allocated, inside a scope.</summary>
    public static void Charge(int[] shape)
    {
        long elements = 1;
        foreach (int d in shape) elements *= d;
        long bytes = elements * sizeof(float);
        if (t_usedBytes + bytes > t_limitBytes)
            throw new AllocationBudgetExceededException(
                $"a [{string.Join(", ", shape)}] tensor ({Gib(bytes)}) would bring this image's activations to {Gib(t_usedBytes + bytes)}, over the {Gib(t_limitBytes)} limit");
        t_usedBytes += bytes;
    }

    private static string Gib(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GiB" : $"{bytes / (double)(1 << 20):0.0} MiB";

    /// <summary>Ends the scope and restores the one around it.</summary>
    public readonly struct Scope((bool Active, long Limit, long Used) previous) : IDisposable
    {
        public void Dispose() => (t_active, t_limitBytes, t_usedBytes) = previous;
    }
}

/// <summary>An allocation inside an <see cref="AllocationBudget"/> scope went past its limit (nothing was allocated).</summary>
internal sealed class AllocationBudgetExceededException(string message) : ArgumentException(message);
