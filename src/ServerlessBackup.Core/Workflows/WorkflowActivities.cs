using System.Text.Json;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Workflows;

/// <summary>
/// Activities by name, with typed inputs and outputs, for <see cref="InProcessWorkflowRuntime"/>
/// (the Functions app binds the same typed methods to activity triggers). Inputs and results cross
/// the boundary as JSON, as they do on the Durable Task runtime.
/// </summary>
public sealed class WorkflowActivities
{
    private readonly Dictionary<string, Func<string, CancellationToken, Task<string>>> byName = new(StringComparer.Ordinal);

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => byName.Keys;

    /// <summary>Registers <paramref name="run"/> as the activity <paramref name="name"/>.</summary>
    public WorkflowActivities Add<TInput, TOutput>(string name, Func<TInput, CancellationToken, Task<TOutput>> run)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(run);
        byName.Add(name, async (json, ct) =>
        {
            var input = JsonSerializer.Deserialize(json, InProcessWorkflowRuntime.Json.Info<TInput>())!;
            return JsonSerializer.Serialize(await run(input, ct).ConfigureAwait(false), InProcessWorkflowRuntime.Json.Info<TOutput>());
        });
        return this;
    }

    /// <summary>Whether a failure of an activity is worth another attempt: everything but a permanent engine failure.</summary>
    public static bool IsRetryable(Exception failure) => failure is not SbkException;

    /// <summary>
    /// Runs an activity body, turning a transient <see cref="SbkException"/> into a
    /// <see cref="TransientActivityException"/> so that either runtime retries it.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.IsTransient)
        {
            throw new TransientActivityException(ex.Message, ex);
        }
    }

    internal bool TryGet(string name, out Func<string, CancellationToken, Task<string>> activity) => byName.TryGetValue(name, out activity!);
}
