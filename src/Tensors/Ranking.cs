namespace NativeIg.Tensors;

/// <summary>The one top-k of the library: a model's best classes, or a featurizer's largest outputs.</summary>
public static class Ranking
{
    /// <summary>
    /// The <paramref name="k"/> largest values of one row, largest first, ties in index order (so the answer
    /// never depends on the sort); k is clamped to 0…length. A NaN sorts below every number.
    /// </summary>
    public static (int Index, float Value)[] TopK(ReadOnlySpan<float> values, int k)
    {
        var copy = values.ToArray();
        var order = new int[copy.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => Below(copy[a], copy[b]) ? 1 : Below(copy[b], copy[a]) ? -1 : a.CompareTo(b));
        return order.Take(Math.Clamp(k, 0, order.Length)).Select(i => (i, copy[i])).ToArray();
    }

    private static bool Below(float a, float b) => float.IsNaN(a) ? !float.IsNaN(b) : !float.IsNaN(b) && a < b;
}
