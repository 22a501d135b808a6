using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>
/// Arithmetic ops. They are written once for every device: the <see cref="Tensor"/> primitives
/// (ScaleInto, MultiplyInto, Fill, SumInto) run where the tensors are.
/// </summary>
public sealed partial class Tape
{
    /// <summary>y = a + b (same shapes); da = db = dy.</summary>
    public Variable Add(Variable a, Variable b, string name = "add")
    {
        Tensor.RequireSameShape(a.Value, b.Value, "Add");
        var y = Tensor.Uninitialized(DeviceOf(name, a, b), a.Value.Shape.ToArray());
        Tensor.ScaleInto(y, a.Value);
        Tensor.ScaleInto(y, b.Value, accumulate: true);
        return Record(y, name, [a, b], () => dy =>
        {
            foreach (var v in new[] { a, b })
                if (v.RequiresGrad)
                {
                    var (dv, acc) = GradTarget(v);
                    Tensor.ScaleInto(dv, dy, accumulate: acc);
                }
        }, kind: "add");
    }

    /// <summary>y = a ⊙ b (same shapes); da = dy ⊙ b, db = dy ⊙ a.</summary>
    public Variable Mul(Variable a, Variable b, string name = "mul")
    {
        Tensor.RequireSameShape(a.Value, b.Value, "Mul");
        var y = Tensor.Uninitialized(DeviceOf(name, a, b), a.Value.Shape.ToArray());
        Tensor.MultiplyInto(y, a.Value, b.Value);
        return Record(y, name, [a, b], () => dy =>
        {
            if (a.RequiresGrad) { var (da, acc) = GradTarget(a); Tensor.MultiplyInto(da, dy, b.Value, acc); }
            if (b.RequiresGrad) { var (db, acc) = GradTarget(b); Tensor.MultiplyInto(db, dy, a.Value, acc); }
        }, saves: [a, b], kind: "mul");
    }

    /// <summary>y = s·x; dx = s·dy.</summary>
    public Variable Scale(Variable x, float s, string name = "scale")
    {
        var y = Tensor.Uninitialized(DeviceOf(name, x), x.Value.Shape.ToArray());
        Tensor.ScaleInto(y, x.Value, s);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Tensor.ScaleInto(dx, dy, s, acc);
        }, kind: "scale");
    }

    /// <summary>Scalar [1] = Σ x; dx = dy everywhere.</summary>
    public Variable Sum(Variable x, string name = "sum") => SumOp(x, 1f, name);

    /// <summary>Scalar [1] = mean of x; dx = dy / count.</summary>
    public Variable Mean(Variable x, string name = "mean") => SumOp(x, 1f / x.Value.Length, name);

    private Variable SumOp(Variable x, float scale, string name)
    {
        var y = Tensor.Uninitialized(DeviceOf(name, x), 1);
        Tensor.SumInto(y, x.Value);
        if (scale != 1f) Tensor.ScaleInto(y, y, scale);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            dx.Fill(dy.ScalarValue() * scale, acc);
        }, kind: "sum");
    }
}
