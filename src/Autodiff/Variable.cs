using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>
/// A tensor in a computation: its value, whether gradients flow to it, and (after
/// <see cref="Tape.Backward"/>) its gradient. Parameters and inputs are leaves; op outputs belong to
/// the tape that made them and are freed with it.
/// </summary>
public sealed class Variable
{
    /// <summary>The value (host or device memory).</summary>
    public Tensor Value { get; }
    /// <summary>The gradient of the backward pass's output with respect to this value, once a backward pass reached it.</summary>
    public Tensor? Grad { get; internal set; }
    /// <summary>Whether a backward pass computes this variable's gradient.</summary>
    public bool RequiresGrad { get; }
    /// <summary>The name ops and messages use.</summary>
    public string Name { get; }
    internal Tape? Owner { get; }

    /// <summary>
    /// Where the value lives (null: host memory), remembered at creation: a freed intermediate's gradient
    /// still goes to the same device although its storage is gone.
    /// </summary>
    public NativeIg.Tensors.ComputeDevice? Device { get; }

    /// <summary>Whether a recorded op's backward reads this value, so it must outlive the forward pass.</summary>
    internal bool Saved { get; set; }

    internal Variable(Tensor value, bool requiresGrad, string name, Tape? owner)
    {
        Value = value;
        Device = value.Device;
        RequiresGrad = requiresGrad;
        Name = name;
        Owner = owner;
    }

    /// <summary>A long-lived leaf (a weight): not owned by any tape. Frozen when <paramref name="requiresGrad"/> is false.</summary>
    public static Variable Parameter(Tensor value, string name, bool requiresGrad = false) => new(value, requiresGrad, name, null) { IsParameter = true };

    /// <summary>Made by <see cref="Parameter"/>: long-lived, so values derived from it may be cached while it is frozen.</summary>
    internal bool IsParameter { get; private init; }

    /// <summary>The value's shape.</summary>
    public ReadOnlySpan<int> Shape => Value.Shape;

    private System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<object>>? _derived;

    /// <summary>
    /// A value derived from a frozen parameter (its filter packed for the GEMM), computed once. Only
    /// frozen parameters cache; call <see cref="ValueChanged"/> after writing into one.
    /// </summary>
    internal T? Derived<T>(string key, Func<T> make) where T : class
    {
        if (RequiresGrad || !IsParameter) return null;
        // Many threads may run one model: the cache is created once and each value made once (Lazy), not once per racing caller.
        var derived = _derived ?? Interlocked.CompareExchange(ref _derived, new(), null) ?? _derived!;
        return (T)derived.GetOrAdd(key, _ => new Lazy<object>(make)).Value;
    }

    /// <summary>Forgets values derived from this parameter (call after changing a frozen parameter in place).</summary>
    public void ValueChanged() => _derived?.Clear();

    /// <summary>Drops the gradient (parameters between training steps).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}{Value.ShapeString}";
}
