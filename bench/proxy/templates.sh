# Shared by bench/proxy_vs_nginx.sh and bench/proxy_instructions.sh (sourced): free ports and the rendering
# of this directory's templates. Needs die() from the caller; render_proxy_template needs HERE (this
# directory), TMP, UPSTREAM_PORT, NGINX_CHAT_PORT and NGINX_STREAM_PORT.

# A free loopback port, never one already handed out to this script.
TAKEN_PORTS=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    [[ $TAKEN_PORTS == *" $p "* ]] && continue
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then TAKEN_PORTS+="$p "; echo "$p"; return 0; fi
  done
  die "no free port found"
}

# read_exact VAR FILE: the file's bytes into VAR, trailing newlines kept ($(<f) drops them).
read_exact() { local -n _into=$1; _into=$(cat "$2"; echo x); _into=${_into%x}; }

# render_proxy_template FILE > OUT: the @NAME@ placeholders filled in.
render_proxy_template() {
  local t completion stream user_line=""
  completion=$(<"$HERE/completion.json")  # one line; its trailing newline dropped
  read_exact stream "$HERE/stream.sse"
  [ "$(id -u)" -eq 0 ] && user_line="user root;"  # nginx workers keep access to the private temp dir
  read_exact t "$1"
  t=${t//@TMP@/"$TMP"}
  t=${t//@USER_LINE@/"$user_line"}
  t=${t//@UPSTREAM_PORT@/"$UPSTREAM_PORT"}
  t=${t//@CHAT_PORT@/"$NGINX_CHAT_PORT"}
  t=${t//@STREAM_PORT@/"$NGINX_STREAM_PORT"}
  t=${t//@COMPLETION_BODY@/"$completion"}
  t=${t//@STREAM_BODY@/"$stream"}
  printf '%s' "$t"
}
