using System.Globalization;


namespace NativeIg.Cli;

internal sealed class HelpRequested(string text) : Exception("help")
{
    public string Text { get; } = text;
}

/// <summary>Options (--name value / --flag) and positional arguments, checked against the command's list.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _options = new();
    public List<string> Positional { get; } = [];

    /// <summary>The arguments as given (after @file expansion).</summary>
    public string[] Raw { get; }

    /// <summary>
    /// Parses with System.CommandLine (<see cref="CommandLine"/>): --name value, --name=value, the short
    /// aliases, @file, `--` (everything after it is positional) and `-` (standard input) as a positional.
    /// -h/--help before any `--` asks for <paramref name="help"/>. Every parse error is a usage error (exit 2).
    /// </summary>
    public Arguments(string[] args, string help, string[] valueOptions, string[] flags)
    {
        int doubleDash = Array.IndexOf(args, "--");
        if ((doubleDash < 0 ? args : args[..doubleDash]).Any(a => a is "-h" or "--help")) throw new HelpRequested(help);
        foreach (var a in doubleDash < 0 ? args : args[..doubleDash])
            if (a.IndexOf('=') is var eq && eq > 0 && flags.Contains(a[..eq])) throw new UsageException($"Option '{a[..eq]}' takes no value.");
        var (command, words) = CommandLine.Define("nativeig", "", valueOptions, flags, "ARGS");
        var result = command.Parse(args, CommandLine.Configuration);
        if (result.Errors.Count > 0) throw new UsageException(result.Errors[0].Message);
        Raw = result.Tokens.Select(t => t.Value).ToArray();
        // An unknown option that looks like one is an error, not an IMAGE (after `--` anything is an IMAGE).
        foreach (var token in result.Tokens)
        {
            if (token.Type == System.CommandLine.Parsing.TokenType.DoubleDash) break;
            if (token.Type == System.CommandLine.Parsing.TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-' && !double.TryParse(token.Value, CultureInfo.InvariantCulture, out _)
                && result.GetResult(words)?.Tokens.Contains(token) == true)
                throw new UsageException($"Unknown option '{token.Value}'.");
        }
        foreach (var option in command.Options)
            if (result.GetResult(option) is { Implicit: false } given)
                _options[option.Name] = option is System.CommandLine.Option<string> text ? result.GetValue(text) : null;
        Positional.AddRange(result.GetValue(words) ?? []);
    }

    public bool Flag(string name) => _options.ContainsKey(name);
    public string? Value(string name) => _options.GetValueOrDefault(name);

    public int? Int(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r)) throw new UsageException($"{name} needs an integer (at most {int.MaxValue}), got '{v}'.");
        return r;
    }

    public double? Double(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !double.IsFinite(r)) throw new UsageException($"{name} needs a finite number, got '{v}'.");
        return r;
    }
}
