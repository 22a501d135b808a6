namespace NativeIg.Ig;

/// <summary>How the path integral ∫₀¹ ∂F/∂x(x′ + α(x − x′)) dα is approximated.</summary>
public enum IntegrationRule
{
    /// <summary>The tutorial's rule: m+1 alphas linspace(0, 1), mean of (g[k] + g[k+1])/2. Error O(1/m²).</summary>
    Trapezoid,
    /// <summary>Left Riemann sum: alphas k/m, k = 0…m−1. Error O(1/m).</summary>
    RiemannLeft,
    /// <summary>Right Riemann sum: alphas k/m, k = 1…m (the IG paper's rule). Error O(1/m).</summary>
    RiemannRight,
    /// <summary>Midpoint rule: alphas (k + ½)/m. Error O(1/m²).</summary>
    RiemannMiddle,
    /// <summary>m-point Gauss–Legendre on [0, 1]: exact for polynomials of degree 2m−1.</summary>
    GaussLegendre,
}

/// <summary>The alphas and quadrature weights of each rule, all in one place; weights always sum to 1.</summary>
public static class PathRules
{
    /// <summary>A rule by name: trapezoid, left, right, middle or gauss-legendre (an <see cref="ArgumentException"/> otherwise).</summary>
    public static IntegrationRule Parse(string name) => name.ToLowerInvariant().Replace("_", "-") switch
    {
        "trapezoid" or "trapezoidal" => IntegrationRule.Trapezoid,
        "left" or "riemann-left" => IntegrationRule.RiemannLeft,
        "right" or "riemann-right" => IntegrationRule.RiemannRight,
        "middle" or "midpoint" or "riemann-middle" => IntegrationRule.RiemannMiddle,
        "gauss-legendre" or "gausslegendre" or "gauss" => IntegrationRule.GaussLegendre,
        _ => throw new ArgumentException($"Unknown integration rule '{name}'; use trapezoid, left, right, middle or gauss-legendre."),
    };

    /// <summary>The rule's name as <see cref="Parse"/> reads it.</summary>
    public static string Name(IntegrationRule rule) => rule switch
    {
        IntegrationRule.Trapezoid => "trapezoid",
        IntegrationRule.RiemannLeft => "left",
        IntegrationRule.RiemannRight => "right",
        IntegrationRule.RiemannMiddle => "middle",
        _ => "gauss-legendre",
    };

    /// <summary>The alphas where gradients are taken and each one's weight, for m steps.</summary>
    public static (double[] Alphas, double[] Weights) AlphasAndWeights(IntegrationRule rule, int steps)
    {
        if (steps is < 1 or > IntegratedGradients.MaxSteps) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be in 1…{IntegratedGradients.MaxSteps}, got {steps}.");
        int m = steps;
        switch (rule)
        {
            case IntegrationRule.Trapezoid:
                {
                    var alphas = Linspace(0, 1, m + 1);
                    var weights = Enumerable.Repeat(1.0 / m, m + 1).ToArray();
                    weights[0] = weights[m] = 0.5 / m;
                    return (alphas, weights);
                }
            case IntegrationRule.RiemannLeft:
                return (Enumerable.Range(0, m).Select(k => (double)k / m).ToArray(), Uniform(m));
            case IntegrationRule.RiemannRight:
                return (Enumerable.Range(1, m).Select(k => (double)k / m).ToArray(), Uniform(m));
            case IntegrationRule.RiemannMiddle:
                return (Enumerable.Range(0, m).Select(k => (k + 0.5) / m).ToArray(), Uniform(m));
            case IntegrationRule.GaussLegendre:
                return GaussLegendre(m);
            default:
                throw new ArgumentOutOfRangeException(nameof(rule));
        }
    }

    /// <summary>numpy.linspace(start, stop, count) with the last value exactly <paramref name="stop"/>.</summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        var result = new double[count];
        for (int i = 0; i < count; i++) result[i] = count == 1 ? start : start + (stop - start) * i / (count - 1);
        if (count > 1) result[^1] = stop;
        return result;
    }

    private static double[] Uniform(int m) => Enumerable.Repeat(1.0 / m, m).ToArray();

    /// <summary>Nodes and weights on [0, 1]: roots of Pₘ by Newton's method from Chebyshev guesses, mapped from [−1, 1].</summary>
    private static (double[] Alphas, double[] Weights) GaussLegendre(int m)
    {
        var alphas = new double[m];
        var weights = new double[m];
        for (int i = 0; i < m; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (m + 0.5));
            double derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                double p0 = 1, p1 = x;
                for (int k = 2; k <= m; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k); // p1 = Pₘ(x), p0 = Pₘ₋₁(x)
                derivative = m * (x * p1 - p0) / (x * x - 1);
                double dx = p1 / derivative;
                x -= dx;
                if (Math.Abs(dx) < 1e-15) break;
            }
            alphas[m - 1 - i] = (x + 1) / 2;
            weights[m - 1 - i] = 1.0 / ((1 - x * x) * derivative * derivative);
        }
        return (alphas, weights);
    }
}
