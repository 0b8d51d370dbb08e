# Adds the remote user (whom ssh logs in as) to group docker. Sent as it is (sudo asks for its
# password on the terminal `ssh -t` gives it), or with every `sudo ` made `sudo -n ` when there is
# no terminal.
sudo usermod -aG docker "$(id -un)"
