using NativeIg.Autodiff;
using NativeIg.Tensors;
using NativeIg.Gpu;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// One tape op on given inputs: their shapes, which are frozen parameters (no gradient, the inference
/// path), how the tape runs it, and the op's double-precision reference from src. <see cref="OpCheck"/>
/// does the rest.
/// </summary>
public sealed record OpCase(
    string Op, string Label, int[][] Inputs, Func<Tape, Variable[], Variable> Run, Func<double[][], double[]> Reference,
    int[]? Frozen = null, float Low = -1f, float High = 1f)
{
    public override string ToString() => $"{Op} {Label}";
}

/// <summary>
/// The op check, in the tinygrad style. For one <see cref="OpCase"/> it
/// <list type="number">
/// <item>runs the op on a recording tape in host memory and compares the output with the reference;</item>
/// <item>runs backward with a random seed and compares every trainable input's gradient with central
/// finite differences of the reference (in double, so the only error is the op's float32 rounding);</item>
/// <item>runs the same op on a device (ILGPU's CPU accelerator in every test run; CUDA too where a machine has it)
/// and compares its output and gradients with the host's.</item>
/// </list>
/// Tolerances: |analytic − numeric| ≤ 1e-5 + 1e-4·max|numeric| (float32 sums against double); device
/// against host ≤ 1e-6 + 1e-4·max|host| (the same float32 work in another order).
/// </summary>
public static class OpCheck
{
    private const double ForwardRtol = 1e-4, GradientRtol = 1e-4, Atol = 1e-5;

    public static void OnHost(OpCase c)
    {
        var inputs = Inputs(c);
        var host = Run(c, inputs, device: null);
        var doubles = inputs.Select(i => ToDouble(i)).ToArray();
        AssertClose(ToFloat(c.Reference(doubles)), host.Output, Atol, ForwardRtol, $"{c}: forward vs reference");
        var seed = ToDouble(host.Seed);
        for (int i = 0; i < inputs.Length; i++)
        {
            if (IsFrozen(c, i)) { Assert.Null(host.Gradients[i]); continue; }
            int which = i;
            var numeric = NumericGradient(v =>
            {
                var probe = (double[][])doubles.Clone();
                probe[which] = v;
                return c.Reference(probe);
            }, doubles[i], seed);
            AssertClose(ToFloat(numeric), host.Gradients[i]!, Atol, GradientRtol, $"{c}: d(input {i}) vs finite differences");
        }
    }

    public static void OnDevice(OpCase c, GpuDevice device)
    {
        var inputs = Inputs(c);
        var host = Run(c, inputs, device: null);
        var onDevice = Run(c, inputs, device);
        AssertClose(host.Output, onDevice.Output, 1e-6, ForwardRtol, $"{c}: forward on {device.Kind} vs host");
        for (int i = 0; i < inputs.Length; i++)
        {
            if (IsFrozen(c, i)) continue;
            AssertClose(host.Gradients[i]!, onDevice.Gradients[i]!, 1e-6, GradientRtol, $"{c}: d(input {i}) on {device.Kind} vs host");
        }
    }

    private static bool IsFrozen(OpCase c, int input) => c.Frozen?.Contains(input) == true;

    private static float[][] Inputs(OpCase c) =>
        c.Inputs.Select((shape, i) => Random(Tensor.ElementCount(shape), Seed(c) + i, c.Low, c.High)).ToArray();

    /// <summary>A seed from the case's name (FNV-1a; string.GetHashCode differs between runs).</summary>
    private static int Seed(OpCase c)
    {
        uint h = 2166136261;
        foreach (char ch in c.ToString()) h = (h ^ ch) * 16777619;
        return (int)(h & 0xffff);
    }

    /// <summary>Output, seed and input gradients (null for frozen inputs) of one run, in host memory.</summary>
    private static (float[] Output, float[] Seed, float[]?[] Gradients) Run(OpCase c, float[][] inputs, GpuDevice? device)
    {
        var owned = new List<Tensor>();
        try
        {
            using var tape = new Tape();
            var variables = new Variable[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                using var host = Tensor.FromSpan(inputs[i], c.Inputs[i]);
                var value = host.To(device);
                owned.Add(value);
                variables[i] = IsFrozen(c, i) ? Variable.Parameter(value, $"p{i}") : tape.Input(value, $"x{i}");
            }
            var y = c.Run(tape, variables);
            float[] output;
            using (var hostOutput = y.Value.ToHost()) output = hostOutput.ToArray();
            var seed = Random(output.Length, Seed(c) + 100);
            using var seedTensor = Tensor.FromSpan(seed, y.Value.Shape.ToArray());
            tape.Backward(y, seedTensor);
            var gradients = variables.Select(v =>
            {
                if (v.Grad is null) return null;
                using var g = v.Grad.ToHost();
                v.ZeroGrad();
                return g.ToArray();
            }).ToArray();
            return (output, seed, gradients);
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>
    /// Central differences of L(x) = Σ_i seed_i·f(x)_i: the gradient of that weighted sum, which is what
    /// a backward pass seeded with <paramref name="seed"/> returns. With f in double and h = 1e-5 the
    /// truncation error is ~1e-10.
    /// </summary>
    public static double[] NumericGradient(Func<double[], double[]> f, double[] x, double[] seed, double h = 1e-5)
    {
        var grad = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            double plus = Dot(f(probe), seed);
            probe[i] = x[i] - h;
            double minus = Dot(f(probe), seed);
            probe[i] = x[i];
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
