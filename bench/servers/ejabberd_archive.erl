%% Loads the benchmark archive into ejabberd's Mnesia table archive_msg, with ejabberd
%% stopped: the table is a disc_only_copies bag, so its rows live in the dets file
%% archive_msg.DAT of the Mnesia folder, and this writes them there in batches.
%% NOTE: all rows of one archive share one dets key, and each insert gets slower as the
%% archive grows: on the two-core benchmark machine 100,000 rows took 12 s and 700,000
%% took about 630 s, with batches of 10,000 or 100,000 rows alike.
%%
%% Input: one message per line, tab-separated: time in ms, "out" or "in", partner's local
%% part, message id, body. Arguments: DatFile InputFile Owner Domain Resource DeadlineMs.
%% Prints "loaded N" when done.
-module(ejabberd_archive).
-export([main/1]).

-define(BATCH, 100000).

main([DatFile, InputFile, Owner, Domain, Resource, Deadline]) ->
    {ok, Table} = dets:open_file(archive_msg, [{file, DatFile}, {type, bag}, {keypos, 2}]),
    {ok, Input} = file:open(InputFile, [read, binary, raw, read_ahead]),
    Context = #{owner => list_to_binary(Owner), domain => list_to_binary(Domain),
                resource => list_to_binary(Resource), deadline => list_to_integer(Deadline)},
    Loaded = load(Table, Input, Context, 0),
    ok = file:close(Input),
    ok = dets:close(Table),
    io:format("loaded ~b~n", [Loaded]),
    halt(0).

load(Table, Input, Context, Loaded) ->
    case os:system_time(millisecond) >= maps:get(deadline, Context) of
        true -> Loaded;
        false ->
            case read_batch(Input, Context, ?BATCH, []) of
                [] -> Loaded;
                Rows ->
                    ok = dets:insert(Table, Rows),
                    load(Table, Input, Context, Loaded + length(Rows))
            end
    end.

read_batch(_Input, _Context, 0, Rows) -> Rows;
read_batch(Input, Context, Left, Rows) ->
    case file:read_line(Input) of
        {ok, Line} -> read_batch(Input, Context, Left - 1, [row(Line, Context) | Rows]);
        eof -> Rows
    end.

%% One row as mod_mam_mnesia writes it: the id is the time in microseconds.
row(Line, #{owner := Owner, domain := Domain, resource := Resource}) ->
    [TimeText, Direction, Partner, Id, Body] = binary:split(string:trim(Line, trailing, "\n"), <<"\t">>, [global]),
    Micros = binary_to_integer(TimeText) * 1000,
    OwnerJid = <<Owner/binary, "@", Domain/binary, "/", Resource/binary>>,
    PartnerBare = <<Partner/binary, "@", Domain/binary>>,
    {From, To, Peer} = case Direction of
        <<"out">> -> {OwnerJid, PartnerBare, {Partner, Domain, <<>>}};
        <<"in">> -> {<<PartnerBare/binary, "/", Resource/binary>>, OwnerJid, {Partner, Domain, Resource}}
    end,
    Packet = {xmlel, <<"message">>,
              [{<<"to">>, To}, {<<"from">>, From}, {<<"type">>, <<"chat">>}, {<<"id">>, Id}, {<<"xmlns">>, <<"jabber:client">>}],
              [{xmlel, <<"body">>, [], [{xmlcdata, Body}]}]},
    {archive_msg, {Owner, Domain}, integer_to_binary(Micros),
     {Micros div 1000000000000, (Micros div 1000000) rem 1000000, Micros rem 1000000},
     Peer, {Partner, Domain, <<>>}, Packet, <<>>, chat}.
