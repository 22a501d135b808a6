using System.CommandLine;
using System.CommandLine.Parsing;
using NativeIg.Tensors.IO;

namespace NativeIg.Cli;

/// <summary>
/// The tool's grammar on System.CommandLine: each command's options (from the option lists its class
/// declares), the short aliases, `--`, @response files, and the completions shells ask for. The values
/// are then checked by the commands themselves (ranges, files), which say what was expected.
/// </summary>
internal static class CommandLine
{
    /// <summary>Short forms: -t target, -m steps (the paper's m), -o out, -b batch, -j json, -q quiet.</summary>
    private static readonly Dictionary<string, string> ShortForms = new()
    {
        ["--target"] = "-t", ["--steps"] = "-m", ["--out"] = "-o", ["--batch"] = "-b", ["--json"] = "-j", ["--quiet"] = "-q",
    };

    /// <summary>The commands, their option lists, and what their positional arguments are.</summary>
    internal static readonly (string Name, string Description, string[] ValueOptions, string[] Flags, string Positional)[] Commands =
    [
        ("classify", "top-K ImageNet labels per image", Classify.ValueOptions, Classify.Flags, "IMAGE"),
        ("explain", "Integrated Gradients attributions and figures", Explain.ValueOptions, Explain.Flags, "IMAGE"),
        ("compare", "every attribution method side by side in one figure", Compare.ValueOptions, Compare.Flags, "IMAGE"),
        ("sanity", "cascading randomisation: does the explanation depend on the model?", Sanity.ValueOptions, Sanity.Flags, "IMAGE"),
        ("model", "an ONNX model's inputs, outputs, ops, parameters", ModelChoice.ValueOptions.Skip(1).ToArray(), ModelChoice.Flags, "PATH.onnx"),
        ("merge", "one report, gallery and dataset view over several runs", ["--out"], [], "DIR"),
        ("weights", "get the weights (weights fetch) or show their path (weights path)", WeightsCommand.ValueOptions, WeightsCommand.Flags, "fetch|path"),
    ];

    /// <summary>One command: a string option per value option, a valueless one per flag, and its positional words.</summary>
    internal static (Command Command, Argument<string[]> Positional) Define(string name, string description, string[] valueOptions, string[] flags, string positional)
    {
        var command = new Command(name, description);
        foreach (var option in valueOptions)
        {
            var o = new Option<string>(option, Aliases(option)) { Arity = ArgumentArity.ExactlyOne };
            if (Choices.TryGetValue(option, out var choices))
                o.CompletionSources.Add(_ => choices.Select(c => new System.CommandLine.Completions.CompletionItem(c)));
            command.Options.Add(o);
        }
        foreach (var flag in flags)
            command.Options.Add(new Option<bool>(flag, Aliases(flag)) { Arity = ArgumentArity.Zero });
        var words = new Argument<string[]>(positional) { Arity = ArgumentArity.ZeroOrMore };
        command.Arguments.Add(words);
        return (command, words);
    }

    /// <summary>The values a shell offers for an option (the commands accept more where the help says so: noise:SEED, blur:SIGMA, an index or label).</summary>
    private static readonly Dictionary<string, string[]> Choices = new()
    {
        ["--colormap"] = ["inferno", "viridis", "diverging"],
        ["--rule"] = ["trapezoid", "left", "right", "middle", "gauss-legendre"],
        ["--output"] = ["probability", "logit"],
        ["--device"] = ["cpu", "cuda", "opencl", "ilgpu-cpu", "auto"],
        ["--baseline"] = ["black", "white", "noise:0", "blur:10"],
        ["--clip"] = ["99", "99.5", "100"],
        ["--method"] = ["ig", "gradient", "grad-x-input", "smoothgrad", "blur-ig", "guided-ig", "xrai", "conductance"],
        ["--layer"] = ["inception_3b/output", "inception_4a/output", "inception_4d/output", "inception_5b/output"],
    };

    private static string[] Aliases(string option) => ShortForms.TryGetValue(option, out var alias) ? [alias] : [];

    /// <summary>@file: one argument per line, blank lines and # comments skipped; bounded (a device or a huge file is refused).</summary>
    internal static readonly ParserConfiguration Configuration = new() { ResponseFileTokenReplacer = ReadResponseFile };

    private static bool ReadResponseFile(string tokenToReplace, out IReadOnlyList<string>? replacementTokens, out string? errorMessage)
    {
        var path = tokenToReplace.StartsWith('@') ? tokenToReplace[1..] : tokenToReplace;
        replacementTokens = null;
        if (!File.Exists(path))
        {
            errorMessage = $"Response file '{path}' not found.";
            return false;
        }
        try
        {
            var bytes = BoundedFile.ReadAll(path, 1 << 20, "response", m => new UsageException(m));
            replacementTokens = System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
            errorMessage = null;
            return true;
        }
        catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException)
        {
            errorMessage = e.Message;
            return false;
        }
    }

    /// <summary>The whole tool as one tree, for completions.</summary>
    internal static RootCommand Tree()
    {
        var root = new RootCommand("nativeig: Inception V1 and Integrated Gradients in pure C#.");
        foreach (var (name, description, valueOptions, flags, positional) in Commands)
            root.Subcommands.Add(Define(name, description, valueOptions, flags, positional).Command);
        root.Subcommands.Add(new Command("completion", "a shell completion script: completion bash|zsh|fish") { Arguments = { new Argument<string>("SHELL") } });
        return root;
    }

    /// <summary>
    /// What a shell may put at <paramref name="position"/> (a character offset) of <paramref name="line"/>,
    /// one per line: commands, options, and the values an option lists (colormaps, rules, devices, …).
    /// </summary>
    internal static IEnumerable<string> Complete(string line, int position)
    {
        // The line starts with the program's own name (or path), which the tree does not have.
        var trimmed = line.TrimStart();
        int skipped = line.Length - trimmed.Length;
        int firstSpace = trimmed.IndexOf(' ');
        if (firstSpace < 0) return [];
        var rest = trimmed[(firstSpace + 1)..];
        int offset = skipped + firstSpace + 1;
        var result = Tree().Parse(rest);
        return result.GetCompletions(Math.Clamp(position - offset, 0, rest.Length)).Select(c => c.Label).Distinct();
    }

    /// <summary>The shell function bash and zsh share: it asks `nativeig complete` for the words at the cursor.</summary>
    private const string BashFunction = """
        _nativeig_complete() {
          local IFS=$'\n'
          COMPREPLY=( $(compgen -W "$(nativeig complete --position "${COMP_POINT}" -- "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _nativeig_complete nativeig

        """;

    /// <summary>The completion script for a shell: it asks `nativeig complete` for the words at the cursor.</summary>
    internal static string Script(string shell) => shell switch
    {
        "bash" => "# nativeig completion for bash: source <(nativeig completion bash)\n" + BashFunction,
        // zsh runs the same function through its bash-completion layer.
        "zsh" => "# nativeig completion for zsh: source <(nativeig completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n" + BashFunction,
        "fish" => """
            # nativeig completion for fish: nativeig completion fish | source
            complete -c nativeig -f -a '(nativeig complete --position (string length -- (commandline -cp)) -- (commandline -p))'

            """,
        _ => throw new UsageException($"completion takes bash, zsh or fish, got '{shell}'."),
    };
}
