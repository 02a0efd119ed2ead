using System.Diagnostics;
using ServerlessBackup.Cli;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>sbk as the tests run it: in this process (fast, output captured), or as its own process (signals, environment, concurrency).</summary>
internal static class Sbk
{
    /// <summary>Runs sbk in this process; returns its exit code and what it wrote.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await SbkProgram.RunAsync(args, new Interaction(output, error, interactive: false));
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>sbk as built in its own project (the test's output carries the ASP.NET Core framework's assemblies, not sbk's).</summary>
    public static string Dll()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = testBin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var sbk = Path.Combine(root, "src", "ServerlessBackup.Cli", "bin", testBin.Parent!.Name, testBin.Name, "sbk.dll");
        Assert.True(File.Exists(sbk), $"sbk is not built at {sbk}");
        return sbk;
    }

    /// <summary>Starts sbk as a process (output redirected; the caller reads and waits).</summary>
    public static Process Start(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var arg in (string[])[Dll(), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            // Exactly the environment asked for: no SBK_* setting of the test run leaks in.
            foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("SBK_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(name);
            }

            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Runs sbk as a process to its end (two minutes at most); returns its exit code and what it wrote.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunProcessAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output, await error);
    }
}
