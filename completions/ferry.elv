
use builtin;
use str;

set edit:completion:arg-completer[ferry] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ferry'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ferry'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;jobs'= {
            cand --state 'Only jobs in this state (repeatable)'
            cand --action 'Only jobs this action applies to'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;status'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;retry'= {
            cand --to 'Send the retried jobs to this destination instead (a URL or a local folder)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --all 'Every failed job that is not acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;ack'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --failed 'Every failed job not yet acknowledged'
            cand --succeeded 'Every succeeded job not yet acknowledged'
            cand --all 'Every succeeded or failed job not yet acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;cancel'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --pending 'Every job not yet finished (pending or registered)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;generate'= {
            cand --dir 'Folder that receives completions/ and man/'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;help'= {
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;help;jobs'= {
        }
        &'ferry;help;status'= {
        }
        &'ferry;help;retry'= {
        }
        &'ferry;help;ack'= {
        }
        &'ferry;help;cancel'= {
        }
        &'ferry;help;generate'= {
        }
        &'ferry;help;help'= {
        }
    ]
    $completions[$command]
}
