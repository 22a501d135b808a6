using NativeIg.Ig;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// The many-images inputs a user or a damaged disk can get wrong: result.json files (truncated, huge,
/// not an object, wrong types, NaN), shard counts and completion positions. Each ends in a clear error
/// naming the file or option, or in the image being redone — never a crash or a silent wrong report.
/// </summary>
public class HostileDatasetInputTests
{
    private const string Good = """{"image":"a.jpg","target":1,"label":"x","top":[{"index":1,"label":"x","probability":0.5}],"steps":4,"f_input":0.5,"f_baseline":0.1,"sum":0.4,"delta":0,"relative_delta":0,"seconds":1,"ig_seconds":1,"settings":"s","tool":"t","device":"cpu","threads":2}""";

    [Theory]
    [InlineData("")]
    [InlineData("{\"image\":\"a.jpg\",\"sett")]                       // truncated
    [InlineData("[1, 2, 3]")]                                        // not an object
    [InlineData("{\"settings\":\"s\"}")]                              // no image
    [InlineData("{\"image\":7,\"settings\":\"s\"}")]                  // a number where a name belongs
    [InlineData("{\"image\":\"a\",\"settings\":\"s\",\"top\":[{\"index\":1}]}")] // a top entry without label and probability
    [InlineData("{\"image\":\"a\",\"settings\":\"s\",\"top\":[null]}")]
    [InlineData("{\"image\":\"a\",\"settings\":\"s\",\"steps\":\"many\"}")]
    [InlineData("{\"image\":\"a\",\"settings\":\"s\",\"delta\":1e999}")] // overflowing number
    [InlineData("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}")] // deeper than a result nests
    public void ADamagedResultIsAFormatErrorNamingTheFile(string line)
    {
        var e = Assert.Throws<FormatException>(() => ExplanationRecord.FromJsonLine(line, "run/a.jpg/result.json"));
        Assert.StartsWith("run/a.jpg/result.json:", e.Message);
    }

    [Fact]
    public void NotANumberRoundTripsAsNotANumber()
    {
        var record = ExplanationRecord.FromJsonLine(Good, "r") with { Delta = double.NaN, RelativeDelta = double.PositiveInfinity };
        var back = ExplanationRecord.FromJsonLine(record.ToJsonLine(), "r");
        Assert.True(double.IsNaN(back.Delta));
        Assert.True(double.IsPositiveInfinity(back.RelativeDelta));
        Assert.Equal(ExplanationRecord.FromJsonLine(Good, "r").Top, back.Top);
    }

    [Fact]
    public void MergeRefusesADamagedOrHugeResultWithTheFileNamed()
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "a.jpg"));
        File.WriteAllText(Path.Combine(run, "a.jpg", "result.json"), Good[..40]);
        var (code, _, error) = RunCli("merge", run);
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(run, "a.jpg", "result.json"), error);

        File.WriteAllText(Path.Combine(run, "a.jpg", "result.json"), Good + new string(' ', 2 << 20)); // over the 1 MiB a result may have
        (code, _, error) = RunCli("merge", run);
        Assert.Equal(1, code);
        Assert.Contains("limit", error);

        (code, _, error) = RunCli("merge", Path.Combine(run, "no-such-run"));
        Assert.Equal(1, code);
        Assert.Contains("no-such-run", error);
        Assert.Equal(2, RunCli("merge").Code);
    }

    [Fact]
    public void MergeOfAResultWithoutTopClassesNamesTheFile()
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "a"));
        var withoutTop = System.Text.RegularExpressions.Regex.Replace(Good, "\"top\":\\[[^\\]]*\\],", "");
        File.WriteAllText(Path.Combine(run, "a", "result.json"), withoutTop);
        var (code, _, error) = RunCli("merge", run);
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(run, "a", "result.json"), error);
        Assert.Contains("no \"top\"", error);
        Assert.DoesNotContain("Index was out of range", error);
    }

    [Fact]
    public void MergeRefusesAttributionsOfTheWrongShapeWithTheFileNamed()
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "a"));
        File.WriteAllText(Path.Combine(run, "a", "result.json"), Good);
        using (var wrong = NativeIg.Tensors.Tensor.Zeros(7, 5)) NativeIg.Tensors.IO.Npy.Write(Path.Combine(run, "a", "attributions.npy"), wrong.Span, wrong.Shape);
        var (code, _, error) = RunCli("merge", run);
        Assert.Equal(1, code);
        Assert.Contains("attributions.npy", error);
        Assert.Contains("[7, 5]", error);
    }

    [Fact]
    public void ALabelThatASpreadsheetWouldRunIsWrittenAsText()
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "a"));
        File.WriteAllText(Path.Combine(run, "a", "result.json"), Good.Replace("\"label\":\"x\"", "\"label\":\"=HYPERLINK(1)\""));
        using (var attributions = NativeIg.Tensors.Tensor.Filled(1f, 4, 4, 3)) NativeIg.Tensors.IO.Npy.Write(Path.Combine(run, "a", "attributions.npy"), attributions.Span, attributions.Shape);
        var (code, _, error) = RunCli("merge", run);
        Assert.True(code == 0, error);
        var csv = File.ReadAllText(Path.Combine(run, "dataset", "summary.csv"));
        Assert.Contains("'=HYPERLINK(1)", csv);
        Assert.DoesNotContain(",=HYPERLINK", csv);
    }

    [Fact]
    public void AReportLineCarriesTheSchemaVersionAndWritesTextAsItIs()
    {
        var record = ExplanationRecord.FromJsonLine(Good, "r") with { Label = "a+b <c>", Settings = "signed=false" };
        var line = record.ToJsonLine();
        Assert.StartsWith($"{{\"schema_version\":{ExplanationJson.SchemaVersion},", line);
        Assert.Contains("a+b <c>", line);
        Assert.DoesNotContain("\\u002B", line);
        Assert.Equal(record, ExplanationRecord.FromJsonLine(line, "r") with { Top = record.Top });
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("2147483648")]
    [InlineData("NaN")]
    public void ABadShardCountIsAUsageError(string shards)
    {
        var (code, _, error) = RunCli("explain", "a.jpg", "b.jpg", "--shards", shards);
        Assert.Equal(2, code);
        Assert.StartsWith("nativeig:", error);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("2147483647")]
    public void ACompletionPositionOutsideTheLineIsClamped(string position)
    {
        var (code, _, _) = RunCli("complete", "--position", position, "--", "nativeig explain --st");
        Assert.Equal(0, code);
        Assert.Equal(2, RunCli("complete", "--position", "abc", "--", "nativeig ex").Code);
    }
}
