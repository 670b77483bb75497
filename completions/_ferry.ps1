
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ferry' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ferry'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ferry' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List jobs, optionally by state or by the action that applies to them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Count jobs and bytes in each state')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge finished jobs: take failures off the list and free room under the job limit')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel jobs that have not finished')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ferry;jobs' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only jobs in this state (repeatable)')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only jobs this action applies to')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;status' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;retry' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Send the retried jobs to this destination instead (a URL or a local folder)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every failed job that is not acknowledged')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;ack' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Every failed job not yet acknowledged')
            [CompletionResult]::new('--succeeded', '--succeeded', [CompletionResultType]::ParameterName, 'Every succeeded job not yet acknowledged')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every succeeded or failed job not yet acknowledged')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;cancel' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--pending', '--pending', [CompletionResultType]::ParameterName, 'Every job not yet finished (pending or registered)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;generate' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Folder that receives completions/ and man/')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default one in the user''s data directory')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;help' {
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List jobs, optionally by state or by the action that applies to them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Count jobs and bytes in each state')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge finished jobs: take failures off the list and free room under the job limit')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel jobs that have not finished')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ferry;help;jobs' {
            break
        }
        'ferry;help;status' {
            break
        }
        'ferry;help;retry' {
            break
        }
        'ferry;help;ack' {
            break
        }
        'ferry;help;cancel' {
            break
        }
        'ferry;help;generate' {
            break
        }
        'ferry;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
