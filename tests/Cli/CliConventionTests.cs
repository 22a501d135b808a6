using NativeIg.Cli;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Command-line conventions: short aliases, `--`, @response files, `-` for standard input, exit codes.</summary>
[Collection("model")]
public class CliConventionTests
{
    [SharedFact]
    public void ShortAliasesMeanTheLongOptions()
    {
        var dir = TempDir();
        var (code, output, error) = RunCli(["explain", Shared("images/fireboat.jpg"), "-t", "pier", "-m", "4", "-b", "3", "-o", dir, "-j", "-q", .. ModelArguments]);
        Assert.True(code == 0, error);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal("pier", json.RootElement.GetProperty("label").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("steps").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir, "figure.png")));
        Assert.Equal("", error); // -q: no progress, no hints
    }

    [SharedFact]
    public void AResponseFileAndDoubleDashWork()
    {
        var dir = TempDir();
        var args = Path.Combine(dir, "args.txt");
        File.WriteAllLines(args, ["# classify the fireboat", "--top", "2", "", .. ModelArguments]);
        var (code, output, _) = RunCli("classify", $"@{args}", "--", Shared("images/fireboat.jpg"));
        Assert.Equal(0, code);
        Assert.Contains("fireboat: 94.3%", output);
        Assert.Equal(3, output.Trim().Split('\n').Length); // the path and two labels: --top 2 came from the file
        // After --, an argument that looks like an option is an IMAGE (here a missing one: exit 1, not a usage error).
        (code, _, var error) = RunCli(["classify", .. ModelArguments, "--", "--top"]);
        Assert.Equal(1, code);
        Assert.Contains("--top: file not found", error);
        (code, _, error) = RunCli("classify", "@/no/such/args.txt");
        Assert.Equal(2, code);
        Assert.Contains("Response file", error);
        if (File.Exists("/dev/zero")) // a device as a response file is refused, not read forever
        {
            (code, _, error) = RunCli("classify", "@/dev/zero");
            Assert.Equal(2, code);
            Assert.Contains("not a regular file", error);
        }
    }

    [SharedFact]
    public void StandardInputIsAnImage()
    {
        using var stdin = new MemoryStream(File.ReadAllBytes(Shared("images/fireboat.jpg")));
        using var fromStdin = Program.LoadImage("-", stdin);
        using var fromFile = NativeIg.Tensors.IO.ImageLoader.LoadForModel(Shared("images/fireboat.jpg"));
        Assert.Equal(fromFile.ToArray(), fromStdin.ToArray());
        using var garbage = new MemoryStream("not an image"u8.ToArray());
        var e = Assert.Throws<NativeIg.Tensors.IO.ImageFormatException>(() => Program.LoadImage("-", garbage));
        Assert.StartsWith("stdin:", e.Message);
        var (code, _, error) = RunCli(["classify", "-", "-", .. ModelArguments]);
        Assert.Equal(2, code);
        Assert.Contains("at most once", error);
    }

    [SharedTheory]
    [InlineData("explain", "-m", "abc")]
    [InlineData("explain", "--baseline", "noise:abc")]
    [InlineData("explain", "-x")]
    [InlineData("classify", "--top", "0", "a.jpg")]
    public void EveryUsageErrorExitsTwo(params string[] args)
    {
        var (code, _, error) = RunCli(args);
        Assert.Equal(2, code);
        Assert.StartsWith("nativeig:", error);
    }
}
