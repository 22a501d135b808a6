using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// A test that reads ../shared (the real weights, photos, golden references): skipped, with the reason,
/// on a clone that has none, so that the data-free tests still run and pass anywhere.
/// </summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (TestUtil.SharedDir is null) Skip = SharedData.MissingReason;
    }
}

/// <summary>A theory that reads ../shared; see <see cref="SharedFactAttribute"/>.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (TestUtil.SharedDir is null) Skip = SharedData.MissingReason;
    }
}

internal static class SharedData
{
    public const string MissingReason = "needs ../shared beside the project (the GoogLeNet weights, the photos, the golden references); not found";
}
