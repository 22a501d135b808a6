using NativeIg.Cli;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// The grammar on System.CommandLine: shell completion from the same option lists the parser uses, and
/// the help and the README naming exactly the options each command accepts.
/// </summary>
public class CommandLineGrammarTests
{
    private static string[] Complete(string line) => RunCli("complete", "--position", line.Length.ToString(), "--", line).Out
        .Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void CompletionOffersCommandsOptionsAndTheirValues()
    {
        Assert.Contains("explain", Complete("nativeig ex"));
        Assert.Contains("classify", Complete("nativeig cl"));
        Assert.Contains("completion", Complete("nativeig comp"));
        var steps = Complete("nativeig explain --st");
        Assert.Contains("--steps", steps);
        Assert.DoesNotContain("--top", steps); // classify's option, not explain's
        Assert.Contains("--top", Complete("nativeig classify --to"));
        Assert.Equal(["diverging", "inferno", "viridis"], Complete("nativeig explain --colormap ").Order());
        Assert.Contains("gauss-legendre", Complete("nativeig explain --rule "));
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _nativeig_complete nativeig")]
    [InlineData("zsh", "bashcompinit")]
    [InlineData("fish", "complete -c nativeig")]
    public void EachShellGetsAScriptThatAsksTheTool(string shell, string expected)
    {
        var (code, output, _) = RunCli("completion", shell);
        Assert.Equal(0, code);
        Assert.Contains(expected, output);
        Assert.Contains("nativeig complete --position", output);
    }

    [Fact]
    public void NoCommandIsAUsageErrorWithTheUsageOnStderr()
    {
        var (code, output, error) = RunCli();
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("nativeig: no command given.", error);
        Assert.Contains("Usage:", error);
    }

    [Fact]
    public void AnUnknownShellIsAUsageError()
    {
        var (code, _, error) = RunCli("completion", "tcsh");
        Assert.Equal(2, code);
        Assert.Contains("bash, zsh or fish", error);
    }

    public static TheoryData<string> CommandNames() => [.. CommandLine.Commands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void TheHelpAndTheReadmeNameEveryOptionTheParserAccepts(string name)
    {
        var command = CommandLine.Commands.Single(c => c.Name == name);
        var (code, help, _) = RunCli(name, "--help");
        Assert.Equal(0, code);
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int start = readme.IndexOf("## Command line", StringComparison.Ordinal);
        var usage = readme[start..readme.IndexOf("```", readme.IndexOf("```text", start, StringComparison.Ordinal) + 7, StringComparison.Ordinal)];
        foreach (var option in command.ValueOptions.Concat(command.Flags))
        {
            Assert.True(help.Contains(option, StringComparison.Ordinal), $"'{name} --help' does not mention {option}");
            if (name is "classify" or "explain")
                Assert.True(usage.Contains(option, StringComparison.Ordinal) || readme.Contains($"`{option}", StringComparison.Ordinal), $"the README does not mention {name} {option}");
        }
        // and the help offers nothing the parser would refuse
        foreach (var word in help.Split([' ', '\n', '[', ']', '(', ')', ','], StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith("--", StringComparison.Ordinal) && w.Length > 2))
        {
            var option = new string(word.TakeWhile(c => char.IsLetterOrDigit(c) || c == '-').ToArray());
            if (option is "--help" or "--version" or "--") continue;
            Assert.True(command.ValueOptions.Contains(option) || command.Flags.Contains(option) || option == "--model",
                $"'{name} --help' mentions {option}, which {name} does not accept");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeIg.sln"))) return dir.FullName;
        throw new InvalidOperationException("The repository root (NativeIg.sln) was not found above the test binaries.");
    }
}
