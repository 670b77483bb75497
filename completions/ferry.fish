# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ferry_global_optspecs
    string join \n journal= config= wait-lock= json job-limit= q/quiet v/verbose progress= color= log-file= h/help V/version
end

function __fish_ferry_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ferry_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ferry_using_subcommand
    set -l cmd (__fish_ferry_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ferry -n "__fish_ferry_needs_command" -l journal -d 'Journal file (see each command\'s --journal)' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l config -d 'Config file with named destinations' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l wait-lock -d 'Wait this long for another run to release the journal' -r
complete -c ferry -n "__fish_ferry_needs_command" -l job-limit -d 'At most this many unacknowledged jobs' -r
complete -c ferry -n "__fish_ferry_needs_command" -l progress -d 'How uploads show their progress' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_needs_command" -l color -d 'Colour on stderr' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ferry -n "__fish_ferry_needs_command" -l log-file -d 'Also append timestamped lines to this file' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l json -d 'JSON Lines on stdout'
complete -c ferry -n "__fish_ferry_needs_command" -s q -l quiet -d 'Nothing on success'
complete -c ferry -n "__fish_ferry_needs_command" -s v -l verbose -d 'Say more'
complete -c ferry -n "__fish_ferry_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_needs_command" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "sync" -d 'Scan folders, then upload what is new: the one-liner for cron and CI'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "watch" -d 'Sync, then keep watching the folders and upload new files once they settle'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "scan" -d 'Walk folders, hash media files and queue one upload job per new content (no network)'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "upload" -d 'Upload the queued jobs (pending, or interrupted and resumable)'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "jobs" -d 'List jobs, optionally by state or by the action that applies to them'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "status" -d 'Count jobs and bytes in each state'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "retry" -d 'Put failed jobs back in the queue'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "ack" -d 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "cancel" -d 'Cancel jobs that have not finished'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "verify" -d 'Check that succeeded jobs\' files are at their destination with the same content'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "probe" -d 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "serve" -d 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "completions" -d 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l to -d 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l protocol -d 'Protocol for a URL destination; auto asks the server with OPTIONS' -r -f -a "auto\t'IETF resumable uploads if the server announces it, else tus, else PUT'
ietf\t'The IETF resumable uploads draft (see --ietf-version)'
tus\t'tus 1.0'
put\t'One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}'
bits\t'BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it'"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l max-depth -d 'Descend at most this many folders below each root' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l include -d 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l exclude -d 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l min-size -d 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l max-size -d 'Leave out files larger than this (e.g. 4G)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l min-age -d 'Leave out files modified less than this long ago, still being written (e.g. 10m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l layout -d 'Where files land at the destination, by capture date and name, e.g. \'{year}/{month}/{name}\' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l layout-undated -d 'The layout for files whose only date is their modification time, e.g. \'undated/{path}\'; without it they follow --layout by that date' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l video-clock -d 'How a video\'s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there' -r -f -a "utc\t''
local\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s j -l concurrency -d 'Upload this many jobs at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l retries -d 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l chunk-size -d 'Send at most this much per request (default: the whole file, or the server\'s limit)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l idle-timeout -d 'End a request when no byte has moved for this long, and retry' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l ietf-version -d 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l put-method -d 'Method for the put protocol' -r -f -a "put\t'PUT the file to the URL'
post\t'POST the file to the URL'"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l part-concurrency -d 'S3: send this many parts of one file at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l bwlimit -d 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l max-duration -d 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l stop-at -d 'Like --max-duration, at this local time of day (HH:MM; tomorrow\'s if today\'s has passed)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l cutoff-mode -d 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish' -r -f -a "hard\t'Stop the uploads in flight; they resume on the next run'
soft\t'Let the uploads in flight finish; start no new one'"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l move-to -d 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l stats -d 'Without bars, print a progress line this often (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l failed-list -d 'At the end, write the paths of the listed failed jobs to this file, one per line' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l job-limit -d 'At most this many jobs may be unacknowledged; scans stop there' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l progress -d 'How the work shows its progress: bars at a terminal, else lines' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l log-file -d 'Also append plain timestamped lines to this file, whatever the terminal shows' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l color -d 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s L -l follow-links -d 'Follow symbolic links (loops are detected and reported)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l hidden -d 'Include hidden files and folders (names starting with a dot)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l all-files -d 'Take every file, not only images, videos and audio'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l sidecars -d 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l no-default-excludes -d 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l rehash -d 'Read and hash every file, even those unchanged since the last scan'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s n -l dry-run -d 'Say what would be queued and write nothing'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l overwrite -d 'S3: replace an object that holds different content (by default the job fails)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l delete-after -d 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l no-auto-ack -d 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s v -l verbose -d 'Say more: each job as it starts and finishes, what a scan left out and why'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l to -d 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l protocol -d 'Protocol for a URL destination; auto asks the server with OPTIONS' -r -f -a "auto\t'IETF resumable uploads if the server announces it, else tus, else PUT'
ietf\t'The IETF resumable uploads draft (see --ietf-version)'
tus\t'tus 1.0'
put\t'One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}'
bits\t'BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it'"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l max-depth -d 'Descend at most this many folders below each root' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l include -d 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l exclude -d 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l min-size -d 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l max-size -d 'Leave out files larger than this (e.g. 4G)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l min-age -d 'Leave out files modified less than this long ago, still being written (e.g. 10m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l layout -d 'Where files land at the destination, by capture date and name, e.g. \'{year}/{month}/{name}\' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l layout-undated -d 'The layout for files whose only date is their modification time, e.g. \'undated/{path}\'; without it they follow --layout by that date' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l video-clock -d 'How a video\'s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there' -r -f -a "utc\t''
local\t''"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s j -l concurrency -d 'Upload this many jobs at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l retries -d 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l chunk-size -d 'Send at most this much per request (default: the whole file, or the server\'s limit)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l idle-timeout -d 'End a request when no byte has moved for this long, and retry' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l ietf-version -d 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l put-method -d 'Method for the put protocol' -r -f -a "put\t'PUT the file to the URL'
post\t'POST the file to the URL'"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l part-concurrency -d 'S3: send this many parts of one file at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l bwlimit -d 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l max-duration -d 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l stop-at -d 'Like --max-duration, at this local time of day (HH:MM; tomorrow\'s if today\'s has passed)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l cutoff-mode -d 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish' -r -f -a "hard\t'Stop the uploads in flight; they resume on the next run'
soft\t'Let the uploads in flight finish; start no new one'"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l move-to -d 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l stats -d 'Without bars, print a progress line this often (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l failed-list -d 'At the end, write the paths of the listed failed jobs to this file, one per line' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l job-limit -d 'At most this many jobs may be unacknowledged; scans stop there' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l progress -d 'How the work shows its progress: bars at a terminal, else lines' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l log-file -d 'Also append plain timestamped lines to this file, whatever the terminal shows' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l color -d 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l settle -d 'Queue a new or changed file once its size and modification time have held still this long' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l rescan -d 'Scan every folder again this often, to catch what no event announced (0: only after lost events)' -r
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s L -l follow-links -d 'Follow symbolic links (loops are detected and reported)'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l hidden -d 'Include hidden files and folders (names starting with a dot)'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l all-files -d 'Take every file, not only images, videos and audio'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l sidecars -d 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l no-default-excludes -d 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l rehash -d 'Read and hash every file, even those unchanged since the last scan'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s n -l dry-run -d 'Say what would be queued and write nothing'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l overwrite -d 'S3: replace an object that holds different content (by default the job fails)'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l delete-after -d 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l no-auto-ack -d 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s v -l verbose -d 'Say more: each job as it starts and finishes, what a scan left out and why'
complete -c ferry -n "__fish_ferry_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l to -d 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l protocol -d 'Protocol for a URL destination; auto asks the server with OPTIONS' -r -f -a "auto\t'IETF resumable uploads if the server announces it, else tus, else PUT'
ietf\t'The IETF resumable uploads draft (see --ietf-version)'
tus\t'tus 1.0'
put\t'One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}'
bits\t'BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it'"
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l max-depth -d 'Descend at most this many folders below each root' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l include -d 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l exclude -d 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l min-size -d 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l max-size -d 'Leave out files larger than this (e.g. 4G)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l min-age -d 'Leave out files modified less than this long ago, still being written (e.g. 10m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l layout -d 'Where files land at the destination, by capture date and name, e.g. \'{year}/{month}/{name}\' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l layout-undated -d 'The layout for files whose only date is their modification time, e.g. \'undated/{path}\'; without it they follow --layout by that date' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l video-clock -d 'How a video\'s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there' -r -f -a "utc\t''
local\t''"
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l job-limit -d 'At most this many jobs may be unacknowledged; scans stop there' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l progress -d 'How the work shows its progress: bars at a terminal, else lines' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l log-file -d 'Also append plain timestamped lines to this file, whatever the terminal shows' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l color -d 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand scan" -s L -l follow-links -d 'Follow symbolic links (loops are detected and reported)'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l hidden -d 'Include hidden files and folders (names starting with a dot)'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l all-files -d 'Take every file, not only images, videos and audio'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l sidecars -d 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l no-default-excludes -d 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l rehash -d 'Read and hash every file, even those unchanged since the last scan'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -s n -l dry-run -d 'Say what would be queued and write nothing'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -s v -l verbose -d 'Say more: each job as it starts and finishes, what a scan left out and why'
complete -c ferry -n "__fish_ferry_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l to -d 'Only the jobs for this destination (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -s j -l concurrency -d 'Upload this many jobs at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l retries -d 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l chunk-size -d 'Send at most this much per request (default: the whole file, or the server\'s limit)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l idle-timeout -d 'End a request when no byte has moved for this long, and retry' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l ietf-version -d 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l put-method -d 'Method for the put protocol' -r -f -a "put\t'PUT the file to the URL'
post\t'POST the file to the URL'"
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l part-concurrency -d 'S3: send this many parts of one file at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l bwlimit -d 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l max-duration -d 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l stop-at -d 'Like --max-duration, at this local time of day (HH:MM; tomorrow\'s if today\'s has passed)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l cutoff-mode -d 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish' -r -f -a "hard\t'Stop the uploads in flight; they resume on the next run'
soft\t'Let the uploads in flight finish; start no new one'"
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l move-to -d 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l stats -d 'Without bars, print a progress line this often (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l failed-list -d 'At the end, write the paths of the listed failed jobs to this file, one per line' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l progress -d 'How the work shows its progress: bars at a terminal, else lines' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l log-file -d 'Also append plain timestamped lines to this file, whatever the terminal shows' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l color -d 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l overwrite -d 'S3: replace an object that holds different content (by default the job fails)'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l delete-after -d 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l no-auto-ack -d 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -s v -l verbose -d 'Say more: each job as it starts and finishes, what a scan left out and why'
complete -c ferry -n "__fish_ferry_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l state -d 'Only jobs in this state (repeatable; comma-separated in the variable)' -r -f -a "pending\t'Queued, not started'
registered\t'The server holds an upload session; bytes may be partly sent'
succeeded\t'Uploaded and confirmed'
failed\t'Gave up; stays on the failures list until retried or acknowledged'
cancelled\t'Stopped on request'"
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l action -d 'Only jobs this action applies to' -r -f -a "process\t'Jobs to upload: pending or registered'
retry\t'Jobs that can be retried: failed and not acknowledged'
acknowledge\t'Jobs that can be acknowledged: succeeded or failed, not yet acknowledged'"
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l to -d 'Only jobs for this destination (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand jobs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand status" -l to -d 'Only jobs for this destination (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand status" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand status" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand status" -l job-limit -d 'At most this many jobs may be unacknowledged; scans stop there' -r
complete -c ferry -n "__fish_ferry_using_subcommand status" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l to -d 'Send the retried jobs to this destination instead (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l all -d 'Every failed job that is not acknowledged'
complete -c ferry -n "__fish_ferry_using_subcommand retry" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand retry" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l failed -d 'Every failed job not yet acknowledged'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l succeeded -d 'Every succeeded job not yet acknowledged'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l all -d 'Every succeeded or failed job not yet acknowledged'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand ack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l to -d 'With --pending, only the jobs for this destination (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l pending -d 'Every job not yet finished (pending or registered)'
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l to -d 'Only jobs for this destination (a configured name, a URL or a local folder)' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -s j -l concurrency -d 'Check this many jobs at once' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l retries -d 'Give up on a file\'s check after this many transient failures in a row (connection, 5xx, 429, stalls)' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l progress -d 'How the work shows its progress: bars at a terminal, else lines' -r -f -a "auto\t'Bars when stderr is a terminal, lines otherwise'
bars\t'A bar per active job and a total bar'
lines\t'One line per finished job and a stats line every --stats'
none\t'Only failures, warnings and the summary'"
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l journal -d 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l wait-lock -d 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)' -r
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l requeue -d 'Put jobs whose file is missing or different back in the queue, for the next upload'
complete -c ferry -n "__fish_ferry_using_subcommand verify" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand verify" -s q -l quiet -d 'Print nothing on success; on failure, the errors and the failures list'
complete -c ferry -n "__fish_ferry_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l to -d 'The same as DEST (which wins when both are given), for scripts that set FERRY_TO for sync' -r
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l protocol -d 'Ask in this protocol: bits sends a BITS Ping (BITS servers announce nothing on OPTIONS)' -r -f -a "auto\t'IETF resumable uploads if the server announces it, else tus, else PUT'
ietf\t'The IETF resumable uploads draft (see --ietf-version)'
tus\t'tus 1.0'
put\t'One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}'
bits\t'BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it'"
complete -c ferry -n "__fish_ferry_using_subcommand probe" -s H -l header -d 'Send this header with every request, e.g. -H \'X-Api-Key: ...\' (repeatable; one per line in the variable; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l token-env -d 'Read a bearer token from this environment variable (sent as Authorization; never recorded)' -r
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l token-file -d 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l ca-cert -d 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l config -d 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand probe" -l json -d 'Print JSON Lines on stdout instead of tables and messages'
complete -c ferry -n "__fish_ferry_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l dir -d 'Folder that receives the files (partial uploads wait in its .ferry-uploads/)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l listen -d 'Address to listen on; anything but loopback needs --token-file and TLS (--tls-cert, --tls-key)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l token-file -d 'File holding the bearer token every request must carry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l max-size -d 'Refuse uploads larger than this (e.g. 64G; binary units); by default only free space limits them' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l max-append-size -d 'Refuse requests carrying more than this many bytes of one upload (no limit by default)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l max-uploads -d 'Unfinished uploads held at once (tus, IETF, PUT bodies and BITS sessions); more get 503 until some finish or expire' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l max-connections -d 'Connections served at once; more wait in the listen backlog' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l expire-after -d 'Delete unfinished uploads not written to for this long (e.g. 24h, 7d)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l forward -d 'Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l forward-method -d 'Method of the forwarded request' -r -f -a "put\t'PUT the file to the backend'
post\t'POST the file to the backend'"
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l forward-header -d 'Header for the forwarded request, \'Name: value\' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l forward-ca-cert -d 'Also trust the CA certificates in this PEM file for the --forward backend' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l tls-cert -d 'PEM certificate chain for HTTPS (with --tls-key; reread on SIGHUP)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l tls-key -d 'PEM private key of --tls-cert' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l allow-host -d 'A host name this server answers to, besides IP addresses and localhost (repeatable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l cors-origin -d 'A web page origin allowed to upload from a browser, e.g. https://photos.example (repeatable)' -r
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l keep -d 'Keep files in --dir after the backend took them (by default they are removed after a 2xx)'
complete -c ferry -n "__fish_ferry_using_subcommand serve" -l insecure-http -d 'Listen beyond loopback without TLS, because a proxy in front ends TLS'
complete -c ferry -n "__fish_ferry_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand generate" -l dir -d 'Folder that receives completions/ and man/' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "sync" -d 'Scan folders, then upload what is new: the one-liner for cron and CI'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "watch" -d 'Sync, then keep watching the folders and upload new files once they settle'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "scan" -d 'Walk folders, hash media files and queue one upload job per new content (no network)'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "upload" -d 'Upload the queued jobs (pending, or interrupted and resumable)'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "jobs" -d 'List jobs, optionally by state or by the action that applies to them'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "status" -d 'Count jobs and bytes in each state'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "retry" -d 'Put failed jobs back in the queue'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "ack" -d 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "cancel" -d 'Cancel jobs that have not finished'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "verify" -d 'Check that succeeded jobs\' files are at their destination with the same content'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "probe" -d 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "serve" -d 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "completions" -d 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from sync watch scan upload jobs status retry ack cancel verify probe serve completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
