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

    /// <summary>Bytes allocated so far in the current scope.</summary>
    public static long UsedBytes => t_usedBytes;

    /// <summary>Starts counting on this thread; allocations past <paramref name="limitBytes"/> in all throw <see cref="AllocationBudgetExceededException"/>.</summary>
    public static Scope Begin(long limitBytes)
    {
        var previous = (t_active, t_limitBytes, t_usedBytes);
        (t_active, t_limitBytes, t_usedBytes) = (true, limitBytes, 0);
        return new Scope(previous);
    }

    /// <summary>Called before a host tensor of <paramref name="elements"/> floats is allocated.</summary>
    public static void Charge(long elements, string shape)
    {
        if (!t_active) return;
        long bytes = elements * sizeof(float);
        if (t_usedBytes + bytes > t_limitBytes)
            throw new AllocationBudgetExceededException(
                $"a {shape} tensor ({Gib(bytes)}) would bring this image's activations to {Gib(t_usedBytes + bytes)}, over the {Gib(t_limitBytes)} limit");
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
