// The TensorFlow tutorial's toy, through NativeIg's tape: f(x) = min(x, 0.8).
// Its gradient is 1 below 0.8 and 0 above, so at x = 1 a plain gradient says "x does not matter",
// although x moved f from 0 to 0.8. Integrating the gradient along 0 → 1 (Integrated Gradients)
// gives back all of it. Run: dotnet run --project samples/SaturatingFunction -c Release [-- out.png]
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.Tensors;

// f and df/dx at 101 points of [0, 1], each from one forward and one backward.
var xs = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
var points = xs.Select(Evaluate).ToArray();
var values = points.Select(p => p.Value).ToArray();
var gradients = points.Select(p => p.Gradient).ToArray();
Console.WriteLine($"df/dx at x = 0.5: {Evaluate(0.5).Gradient}, at x = 1.0: {Evaluate(1.0).Gradient}");

// Integrated Gradients from x' = 0 to x = 1, midpoint rule with m = 100 steps:
// (x − x')·∫₀¹ f'(x' + α(x − x')) dα ≈ (1/m)·Σ_k f'((k + ½)/m) = 0.8 = f(1) − f(0) (completeness).
const int m = 100;
double integral = Enumerable.Range(0, m).Sum(k => Evaluate((k + 0.5) / m).Gradient) / m;
Console.WriteLine($"IG(x = 1, baseline 0) = {integral:F3}; f(1) − f(0) = {values[^1] - values[0]:F3}");

string output = args.Length > 0 ? args[0] : Path.Combine("docs", "images", "saturating-function.png");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
var canvas = Visualization.FunctionAndGradientPlots(xs, values, gradients, "f(x) = min(x, 0.8)", "df/dx: 0 above 0.8 (saturated)");
string temporary = output + ".tmp";
canvas.SavePng(temporary);
File.Move(temporary, output, overwrite: true);
Console.WriteLine($"wrote {output}");

static (double Value, double Gradient) Evaluate(double at)
{
    using var input = Tensor.FromSpan([(float)at], 1);
    using var tape = new Tape();
    var x = tape.Input(input);
    var y = tape.Minimum(x, 0.8f);   // forward: y = min(x, 0.8); the tape records the chain rule
    double value = y.Value[0];
    tape.Backward(y);                // backward from dL/dy = 1, so x.Grad = dy/dx
    double gradient = x.Grad![0];
    x.Grad.Dispose();
    return (value, gradient);
}
