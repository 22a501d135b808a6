using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>
/// A tensor in a computation: its value, whether gradients flow to it, and (after
/// <see cref="Tape.Backward"/>) its gradient. Parameters and inputs are leaves; op outputs belong to
/// the tape that made them and are freed with it.
/// </summary>
public sealed class Variable
{
    public Tensor Value { get; }
    public Tensor? Grad { get; internal set; }
    public bool RequiresGrad { get; }
    public string Name { get; }
    internal Tape? Owner { get; }

    /// <summary>Whether a recorded op's backward reads this value, so it must outlive the forward pass.</summary>
    internal bool Saved { get; set; }

    internal Variable(Tensor value, bool requiresGrad, string name, Tape? owner)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        Name = name;
        Owner = owner;
    }

    /// <summary>A long-lived leaf (a weight): not owned by any tape. Frozen when <paramref name="requiresGrad"/> is false.</summary>
    public static Variable Parameter(Tensor value, string name, bool requiresGrad = false) => new(value, requiresGrad, name, null);

    public ReadOnlySpan<int> Shape => Value.Shape;

    /// <summary>Drops the gradient (parameters between training steps).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    public override string ToString() => $"{Name}{Value.ShapeString}";
}
