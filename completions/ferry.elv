
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
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sync 'Scan folders, then upload what is new: the one-liner for cron and CI'
            cand scan 'Walk folders, hash media files and queue one upload job per new content (no network)'
            cand upload 'Upload the queued jobs (pending, or interrupted and resumable)'
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand probe 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
            cand serve 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT)'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;sync'= {
            cand --to 'Where the jobs upload to: a destination named in the config file, a URL or a local folder'
            cand --protocol 'Protocol for a URL destination; auto asks the server with OPTIONS'
            cand --max-depth 'Descend at most this many folders below each root'
            cand --include 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)'
            cand --exclude 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)'
            cand --min-size 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)'
            cand --max-size 'Leave out files larger than this (e.g. 4G)'
            cand --min-age 'Leave out files modified less than this long ago, still being written (e.g. 10m)'
            cand -j 'Upload this many jobs at once'
            cand --concurrency 'Upload this many jobs at once'
            cand --retries 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)'
            cand --chunk-size 'Send at most this much per request (default: the whole file, or the server''s limit)'
            cand --idle-timeout 'End a request when no byte has moved for this long, and retry'
            cand --ietf-version 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)'
            cand --put-method 'Method for the put protocol'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --stats 'Without bars, print a progress line this often (e.g. 30s, 5m)'
            cand --failed-list 'At the end, write the paths of the listed failed jobs to this file, one per line'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand -L 'Follow symbolic links (loops are detected and reported)'
            cand --follow-links 'Follow symbolic links (loops are detected and reported)'
            cand --hidden 'Include hidden files and folders (names starting with a dot)'
            cand --all-files 'Take every file, not only images, videos and audio'
            cand --sidecars 'Also take sidecar files (XMP, AAE, THM)'
            cand --no-default-excludes 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
            cand --rehash 'Read and hash every file, even those unchanged since the last scan'
            cand -n 'Say what would be queued and write nothing'
            cand --dry-run 'Say what would be queued and write nothing'
            cand --no-auto-ack 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;scan'= {
            cand --to 'Where the jobs upload to: a destination named in the config file, a URL or a local folder'
            cand --protocol 'Protocol for a URL destination; auto asks the server with OPTIONS'
            cand --max-depth 'Descend at most this many folders below each root'
            cand --include 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)'
            cand --exclude 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)'
            cand --min-size 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)'
            cand --max-size 'Leave out files larger than this (e.g. 4G)'
            cand --min-age 'Leave out files modified less than this long ago, still being written (e.g. 10m)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand -L 'Follow symbolic links (loops are detected and reported)'
            cand --follow-links 'Follow symbolic links (loops are detected and reported)'
            cand --hidden 'Include hidden files and folders (names starting with a dot)'
            cand --all-files 'Take every file, not only images, videos and audio'
            cand --sidecars 'Also take sidecar files (XMP, AAE, THM)'
            cand --no-default-excludes 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
            cand --rehash 'Read and hash every file, even those unchanged since the last scan'
            cand -n 'Say what would be queued and write nothing'
            cand --dry-run 'Say what would be queued and write nothing'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;upload'= {
            cand -j 'Upload this many jobs at once'
            cand --concurrency 'Upload this many jobs at once'
            cand --retries 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)'
            cand --chunk-size 'Send at most this much per request (default: the whole file, or the server''s limit)'
            cand --idle-timeout 'End a request when no byte has moved for this long, and retry'
            cand --ietf-version 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)'
            cand --put-method 'Method for the put protocol'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --stats 'Without bars, print a progress line this often (e.g. 30s, 5m)'
            cand --failed-list 'At the end, write the paths of the listed failed jobs to this file, one per line'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --no-auto-ack 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;jobs'= {
            cand --state 'Only jobs in this state (repeatable; comma-separated in the variable)'
            cand --action 'Only jobs this action applies to'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;status'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;retry'= {
            cand --to 'Send the retried jobs to this destination instead (a configured name, a URL or a local folder)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --all 'Every failed job that is not acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;ack'= {
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --failed 'Every failed job not yet acknowledged'
            cand --succeeded 'Every succeeded job not yet acknowledged'
            cand --all 'Every succeeded or failed job not yet acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;cancel'= {
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --pending 'Every job not yet finished (pending or registered)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;probe'= {
            cand --to 'The same as DEST (which wins when both are given), for scripts that set FERRY_TO for sync'
            cand --protocol 'Ask in this protocol: bits sends a BITS Ping (BITS servers announce nothing on OPTIONS)'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;serve'= {
            cand --dir 'Folder that receives the files (partial uploads wait in its .ferry-uploads/)'
            cand --listen 'Address to listen on; anything but loopback needs --token-file'
            cand --token-file 'File holding the bearer token every request must carry'
            cand --max-size 'Refuse uploads larger than this (e.g. 64G; binary units)'
            cand --max-append-size 'Refuse requests carrying more than this many bytes of one upload'
            cand --expire-after 'Delete unfinished uploads not written to for this long (e.g. 24h, 7d)'
            cand --forward 'Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})'
            cand --forward-method 'Method of the forwarded request'
            cand --forward-header 'Header for the forwarded request, ''Name: value'' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --keep 'Keep files in --dir after the backend took them (by default they are removed after a 2xx)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;generate'= {
            cand --dir 'Folder that receives completions/ and man/'
            cand --journal 'Journal file to use instead of the default one in the user''s data directory'
            cand --config 'Config file with named destinations, instead of config.toml in the user''s config directory'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How uploads show their progress: bars at a terminal, else lines'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand --verbose 'Say more: each job as it starts and finishes, with its protocol and offset'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;help'= {
            cand sync 'Scan folders, then upload what is new: the one-liner for cron and CI'
            cand scan 'Walk folders, hash media files and queue one upload job per new content (no network)'
            cand upload 'Upload the queued jobs (pending, or interrupted and resumable)'
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand probe 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
            cand serve 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT)'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;help;sync'= {
        }
        &'ferry;help;scan'= {
        }
        &'ferry;help;upload'= {
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
        &'ferry;help;probe'= {
        }
        &'ferry;help;serve'= {
        }
        &'ferry;help;generate'= {
        }
        &'ferry;help;help'= {
        }
    ]
    $completions[$command]
}
